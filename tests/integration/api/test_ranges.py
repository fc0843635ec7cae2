"""Range queries (overlap, boundary-spanning entries, open series) and paging."""

from __future__ import annotations

import httpx
from tests.integration.api.conftest import API, FirmWorld


async def _appointment(client: httpx.AsyncClient, who: FirmWorld, start: str, end: str,
                       **extra: object) -> str:  # fmt: skip
    body = {"title": f"{start}", "start_at": start, "end_at": end, "time_zone": "UTC", **extra}
    made = await client.post(f"{API}/appointments", json=body, headers=who.admin.auth)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_range_includes_entries_spanning_a_boundary(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    before = await _appointment(client, firm_a, "2026-05-01T08:00:00Z", "2026-05-01T09:00:00Z")
    across_start = await _appointment(
        client, firm_a, "2026-05-01T23:00:00Z", "2026-05-02T01:00:00Z"
    )
    inside = await _appointment(client, firm_a, "2026-05-02T10:00:00Z", "2026-05-02T11:00:00Z")
    across_end = await _appointment(client, firm_a, "2026-05-02T23:30:00Z", "2026-05-03T00:30:00Z")
    touching = await _appointment(client, firm_a, "2026-05-03T00:00:00Z", "2026-05-03T01:00:00Z")
    endless = await _appointment(  # the longest series the API accepts (series_limits)
        client, firm_a, "2026-04-01T07:00:00Z", "2026-04-01T07:30:00Z", rrule="FREQ=DAILY;COUNT=999"
    )
    ended = await _appointment(
        client, firm_a, "2026-04-01T07:00:00Z", "2026-04-01T07:30:00Z", rrule="FREQ=DAILY;COUNT=2"
    )
    window = {"start": "2026-05-02T00:00:00Z", "end": "2026-05-03T00:00:00Z"}
    got = await client.get(f"{API}/appointments", params=window, headers=firm_a.admin.auth)
    ids = [e["id"] for e in got.json()["items"]]
    assert ids == [endless, across_start, inside, across_end]
    assert before not in ids
    assert touching not in ids
    assert ended not in ids


async def test_paging_is_stable_and_links_the_next_page(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    made = [
        await _appointment(client, firm_a, "2026-06-01T09:00:00Z", "2026-06-01T10:00:00Z")
        for _ in range(5)
    ]
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await client.get(
            f"{API}/appointments", params={"limit": 2, "offset": offset}, headers=firm_a.admin.auth
        )
        body = page.json()
        assert body["total"] == 5
        seen += [e["id"] for e in body["items"]]
        offset = body["next_offset"]
    assert seen == sorted(made)  # same start: ordered by id
    too_big = await client.get(
        f"{API}/appointments", params={"limit": 1000}, headers=firm_a.admin.auth
    )
    assert too_big.status_code == 422


async def test_step_reminder_is_a_day_in_the_firm_zone(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    body = {"case_id": firm_a.case_id, "step_name": "RFE due", "due_date": "2026-09-30",
            "reminder_date": "2026-09-25"}  # fmt: skip
    made = await client.post(f"{API}/step-reminders", json=body, headers=firm_a.cm1.auth)
    assert made.json()["starts_at"].startswith("2026-09-25T04:00:00")  # New York midnight
    window = {"start": "2026-09-25T12:00:00Z", "end": "2026-09-25T13:00:00Z"}
    got = await client.get(f"{API}/step-reminders", params=window, headers=firm_a.cm1.auth)
    assert [e["id"] for e in got.json()["items"]] == [made.json()["id"]]
