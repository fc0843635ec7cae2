"""Create, read, update and delete of each of the four entry kinds, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.conftest import (
    API,
    APPOINTMENT,
    COURT,
    INTERVIEW,
    REMINDER,
    FirmWorld,
    is_problem,
)

KINDS: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("appointments", APPOINTMENT, {"title": "Moved meeting", "location": "Room 2"}, False),
    ("court-dates", COURT, {"judge": "Hon. Reyes", "duration_minutes": 90}, True),
    ("interviews", INTERVIEW, {"officer": "Officer Kim", "documents": "Passport"}, True),
    ("step-reminders", REMINDER, {"reminder_date": "2026-03-18", "notes": "call"}, True),
]


@pytest.mark.parametrize(("path", "body", "patch", "needs_case"), KINDS)
async def test_entry_crud(
    client: httpx.AsyncClient,
    firm_a: FirmWorld,
    path: str,
    body: dict[str, Any],
    patch: dict[str, Any],
    needs_case: bool,
) -> None:
    auth = firm_a.cm1.auth
    payload = {**body, "case_id": firm_a.case_id} if needs_case else body
    created = await client.post(f"{API}/{path}", json=payload, headers=auth)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["version"] == 1
    url = f"{API}/{path}/{entry['id']}"

    fetched = await client.get(url, headers=firm_a.staff.auth)
    assert fetched.status_code == 200
    assert fetched.json() == entry

    updated = await client.patch(url, json=patch, headers=auth)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    for key, value in patch.items():
        assert updated.json()[key] == value

    unchanged = await client.patch(url, json={}, headers=auth)
    assert unchanged.json()["version"] == 2

    listed = await client.get(f"{API}/{path}", headers=auth)
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]

    assert (await client.delete(url, headers=auth)).status_code == 204
    is_problem(await client.get(url, headers=auth), 404)
    is_problem(await client.delete(url, headers=auth), 404)
    assert (await client.get(f"{API}/{path}", headers=auth)).json()["total"] == 0


async def test_times_follow_the_time_rule(client: httpx.AsyncClient, firm_a: FirmWorld) -> None:
    """A naive time is wall time in time_zone; responses carry that zone's offset."""
    made = await client.post(
        f"{API}/interviews",
        json={**INTERVIEW, "case_id": firm_a.case_id, "time_zone": "America/Los_Angeles"},
        headers=firm_a.cm1.auth,
    )
    body = made.json()
    assert body["start_at"] == "2026-03-11T10:00:00-07:00"
    assert body["starts_at"].startswith("2026-03-11T17:00:00")
    assert body["ends_at"].startswith("2026-03-11T18:00:00")  # default one hour


async def test_all_day_and_recurring_appointment(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    all_day = await client.post(
        f"{API}/appointments",
        json={"title": "Office closed", "all_day": True, "start_date": "2026-07-03",
              "end_date": "2026-07-04", "time_zone": "America/New_York"},
        headers=firm_a.cm1.auth,
    )  # fmt: skip
    assert all_day.status_code == 201, all_day.text
    assert all_day.json()["starts_at"].startswith("2026-07-03T04:00:00")
    assert all_day.json()["ends_at"].startswith("2026-07-04T04:00:00")

    weekly = await client.post(
        f"{API}/appointments",
        json={**APPOINTMENT, "rrule": "RRULE:FREQ=WEEKLY;COUNT=3",
              "exdates": ["2026-03-19T09:00:00"]},
        headers=firm_a.cm1.auth,
    )  # fmt: skip
    assert weekly.status_code == 201, weekly.text
    assert weekly.json()["rrule"] == "FREQ=WEEKLY;COUNT=3"
    assert weekly.json()["ends_at"].startswith("2026-03-26T15:00:00")

    endless = await client.post(
        f"{API}/appointments", json={**APPOINTMENT, "rrule": "FREQ=DAILY"}, headers=firm_a.cm1.auth
    )
    assert endless.status_code == 422  # a series must end (test_series_limits.py)


async def test_patch_cannot_null_a_required_field(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    made = await client.post(
        f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id}, headers=firm_a.cm1.auth
    )
    url = f"{API}/court-dates/{made.json()['id']}"
    is_problem(await client.patch(url, json={"hearing_type": None}, headers=firm_a.cm1.auth), 422)
    assert (await client.get(url, headers=firm_a.cm1.auth)).json()["version"] == 1
