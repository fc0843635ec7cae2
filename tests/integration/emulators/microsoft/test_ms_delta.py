"""calendarView/delta: window rules, paging with odata.maxpagesize, deltaLink rounds with
@removed, series kept on one page, expiry (410 syncStateNotFound), per-calendar delta (beta)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ms_support import WINDOW, World, event_body

from casecal.emulators.microsoft import MicrosoftEmulator

DELTA = f"/v1.0/me/calendarView/delta?{WINDOW}"


async def rounds(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[list[list[dict[str, Any]]], str]:
    """Follow nextLinks to the deltaLink; returns the pages and the deltaLink."""
    pages: list[list[dict[str, Any]]] = []
    while True:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["value"])
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return pages, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


async def add(
    client: httpx.AsyncClient, auth: dict[str, str], subject: str, day: str = "2026-05-04"
) -> dict[str, Any]:
    response = await client.post("/v1.0/me/events", headers=auth, json=event_body(subject, day))
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_full_sync_pages_then_delta_link(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for n in range(5):
        await add(client, auth, f"E{n}")
    await add(client, auth, "Outside the window", "2025-06-01")
    headers = {**auth, "Prefer": "odata.maxpagesize=2"}
    first = await client.get(DELTA, headers=headers)
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert "$skiptoken=" in first.json()["@odata.nextLink"]
    pages, delta_link = await rounds(client, DELTA, headers)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(e["subject"] for p in pages for e in p) == [f"E{n}" for n in range(5)]
    assert "$deltatoken=" in delta_link
    assert delta_link.startswith("http://testserver/v1.0/me/calendarView/delta?")


async def test_incremental_round_reports_creates_updates_and_removals(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    keep = await add(client, auth, "Keep")
    change = await add(client, auth, "Change")
    drop = await add(client, auth, "Drop")
    _, link = await rounds(client, DELTA, auth)
    quiet, link = await rounds(client, link, auth)
    assert quiet == [[]]

    await client.patch(f"/v1.0/me/events/{change['id']}", headers=auth, json={"subject": "Changed"})
    await client.delete(f"/v1.0/me/events/{drop['id']}", headers=auth)
    new = await add(client, auth, "New")
    pages, link = await rounds(client, link, auth)
    items = [i for p in pages for i in p]
    assert {i["id"]: i.get("subject") for i in items if "@removed" not in i} == {
        change["id"]: "Changed",
        new["id"]: "New",
    }
    assert [i for i in items if "@removed" in i] == [
        {"id": drop["id"], "@removed": {"reason": "deleted"}}
    ]
    assert keep["id"] not in {i["id"] for i in items}


async def test_event_moved_out_of_the_window_comes_back_removed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await add(client, auth, "Hearing")
    _, link = await rounds(client, DELTA, auth)
    later = event_body("Hearing", "2027-03-01")
    await client.patch(
        f"/v1.0/me/events/{event['id']}",
        headers=auth,
        json={"start": later["start"], "end": later["end"]},
    )
    pages, _ = await rounds(client, link, auth)
    assert pages == [[{"id": event["id"], "@removed": {"reason": "deleted"}}]]


async def test_window_is_required_and_query_options_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    missing = await client.get("/v1.0/me/calendarView/delta", headers=auth)
    assert missing.status_code == 400
    for option in (
        "$select=subject",
        "$expand=singleValueExtendedProperties",
        "$filter=subject eq 'x'",
        "$orderby=subject",
    ):
        response = await client.get(f"{DELTA}&{option}", headers=auth)
        assert response.status_code == 400, option
        assert response.json()["error"]["code"] == "ErrorInvalidUrlQuery"
    _, link = await rounds(client, DELTA, auth)
    with_window = await client.get(f"{link}&{WINDOW}", headers=auth)
    assert with_window.status_code == 400


async def test_a_series_is_not_split_across_pages_and_deleted_occurrences_are_silent(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = event_body("Daily", "2026-05-04")
    body["recurrence"] = {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": "2026-05-04", "numberOfOccurrences": 5},
    }
    await add(client, auth, "Single A", "2026-05-01")
    master = (await client.post("/v1.0/me/events", headers=auth, json=body)).json()
    headers = {**auth, "Prefer": "odata.maxpagesize=2"}
    pages, link = await rounds(client, DELTA, headers)
    series_pages = [p for p in pages if any(i.get("seriesMasterId") == master["id"] for i in p)]
    assert len(series_pages) == 1
    assert sum(1 for i in series_pages[0] if i.get("type") == "occurrence") == 5

    occurrence = next(i for i in series_pages[0] if i.get("type") == "occurrence")
    await client.delete(f"/v1.0/me/events/{occurrence['id']}", headers=auth)
    pages, _ = await rounds(client, link, headers)
    items = [i for p in pages for i in p]
    assert len(items) == 4
    assert all("@removed" not in i for i in items)
    assert occurrence["id"] not in {i["id"] for i in items}


async def test_expired_tokens_answer_410_sync_state_not_found(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator
) -> None:
    await add(client, auth, "E")
    _, link = await rounds(client, DELTA, auth)
    assert emu.expire_delta_tokens() >= 1
    gone = await client.get(link, headers=auth)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "syncStateNotFound"
    restart = gone.headers["Location"]
    assert "startDateTime=" in restart
    pages, _ = await rounds(client, restart, auth)
    assert [e["subject"] for e in pages[0]] == ["E"]


async def test_expiry_over_http_and_garbage_tokens(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    _, link = await rounds(client, DELTA, auth)
    assert (await client.post("/_emulator/expire-delta-tokens")).status_code == 200
    assert (await client.get(link, headers=auth)).status_code == 410
    garbage = await client.get("/v1.0/me/calendarView/delta?$deltatoken=nonsense", headers=auth)
    assert garbage.status_code == 410


async def test_v1_delta_covers_the_default_calendar_and_beta_has_per_calendar_delta(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    cases = emu.add_calendar(world.ann, "Cases")
    await client.post(
        f"/v1.0/me/calendars/{cases}/events", headers=auth, json=event_body("In Cases")
    )
    await add(client, auth, "In default")
    pages, _ = await rounds(client, DELTA, auth)
    assert [e["subject"] for e in pages[0]] == ["In default"]
    v1 = await client.get(f"/v1.0/me/calendars/{cases}/calendarView/delta?{WINDOW}", headers=auth)
    assert v1.status_code == 400
    pages, link = await rounds(
        client, f"/beta/me/calendars/{cases}/calendarView/delta?{WINDOW}", auth
    )
    assert [e["subject"] for e in pages[0]] == ["In Cases"]
    assert link.startswith(f"http://testserver/beta/me/calendars/{cases}/calendarView/delta?")
    default_link = (await client.get(DELTA, headers=auth)).json()["@odata.deltaLink"]
    token = default_link.split("$deltatoken=")[1]
    crossed = await client.get(
        f"/beta/me/calendars/{cases}/calendarView/delta?$deltatoken={token}", headers=auth
    )
    assert crossed.status_code == 400


@pytest.mark.parametrize("immutable", [True, False])
async def test_delta_honours_id_type_and_time_zone(
    client: httpx.AsyncClient, auth: dict[str, str], immutable: bool
) -> None:
    prefer = 'outlook.timezone="Eastern Standard Time"' + (
        ', IdType="ImmutableId"' if immutable else ""
    )
    headers = {**auth, "Prefer": prefer}
    created = (await client.post("/v1.0/me/events", headers=headers, json=event_body())).json()
    pages, _ = await rounds(client, DELTA, headers)
    item = pages[0][0]
    assert item["id"] == created["id"]
    assert item["start"] == {
        "dateTime": "2026-05-04T03:00:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert "singleValueExtendedProperties" not in item
