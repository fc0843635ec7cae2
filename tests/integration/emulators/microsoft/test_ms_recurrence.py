"""Recurring events: patternedRecurrence validation, series masters in /events, occurrences and
exceptions in calendarView and /instances, deleted occurrences, wall-clock times across DST."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ms_support import WINDOW

WEEKLY = {
    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
    "range": {"type": "numbered", "startDate": "2026-03-23", "numberOfOccurrences": 4},
}


def series(recurrence: dict[str, Any] | None = None, day: str = "2026-03-23") -> dict[str, Any]:
    return {
        "subject": "Weekly check-in",
        "start": {"dateTime": f"{day}T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": f"{day}T09:30:00", "timeZone": "W. Europe Standard Time"},
        "recurrence": recurrence or WEEKLY,
    }


async def make_series(client: httpx.AsyncClient, auth: dict[str, str], **kw: Any) -> dict[str, Any]:
    response = await client.post("/v1.0/me/events", headers=auth, json=series(**kw))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def view(
    client: httpx.AsyncClient, auth: dict[str, str], **headers: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1.0/me/calendarView?{WINDOW}&$top=100", headers={**auth, **headers}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["value"]
    return items


async def test_events_list_masters_calendar_view_lists_occurrences(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    master = await make_series(client, auth)
    assert master["type"] == "seriesMaster"
    listed = (await client.get("/v1.0/me/events", headers=auth)).json()["value"]
    assert [e["type"] for e in listed] == ["seriesMaster"]
    occurrences = await view(client, auth)
    assert [o["type"] for o in occurrences] == ["occurrence"] * 4
    assert {o["seriesMasterId"] for o in occurrences} == {master["id"]}
    assert [o["originalStart"][:10] for o in occurrences] == [
        "2026-03-23",
        "2026-03-25",
        "2026-03-30",
        "2026-04-01",
    ]
    assert len({o["iCalUId"] for o in occurrences}) == 4


async def test_wall_clock_time_is_kept_across_dst(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await make_series(client, auth)
    utc = [o["start"]["dateTime"][11:16] for o in await view(client, auth)]
    assert utc == ["08:00", "08:00", "07:00", "07:00"]
    local = await view(client, auth, Prefer='outlook.timezone="W. Europe Standard Time"')
    assert {o["start"]["dateTime"][11:16] for o in local} == {"09:00"}


async def test_instances_need_a_window(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    master = await make_series(client, auth)
    url = f"/v1.0/me/events/{master['id']}/instances"
    missing = await client.get(url, headers=auth)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "ErrorInvalidParameter"
    found = await client.get(f"{url}?{WINDOW}", headers=auth)
    assert len(found.json()["value"]) == 4


async def test_calendar_view_needs_a_window(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/v1.0/me/calendarView", headers=auth)).status_code == 400


async def test_patching_an_occurrence_makes_an_exception(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    master = await make_series(client, auth)
    second = (await view(client, auth))[1]
    patched = await client.patch(
        f"/v1.0/me/events/{second['id']}",
        headers=auth,
        json={
            "subject": "Moved check-in",
            "start": {"dateTime": "2026-03-25T11:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-03-25T11:30:00", "timeZone": "W. Europe Standard Time"},
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["type"] == "exception"
    items = await view(client, auth)
    assert [i["type"] for i in items] == ["occurrence", "exception", "occurrence", "occurrence"]
    assert items[1]["subject"] == "Moved check-in"
    assert items[1]["id"] == second["id"]
    assert items[1]["start"]["dateTime"].startswith("2026-03-25T10:00")
    assert items[0]["subject"] == "Weekly check-in"
    again = (await client.get(f"/v1.0/me/events/{master['id']}", headers=auth)).json()
    assert again["changeKey"] == master["changeKey"]


async def test_deleting_an_occurrence_removes_only_that_slot(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await make_series(client, auth)
    third = (await view(client, auth))[2]
    assert (await client.delete(f"/v1.0/me/events/{third['id']}", headers=auth)).status_code == 204
    remaining = await view(client, auth)
    assert len(remaining) == 3
    assert third["id"] not in {i["id"] for i in remaining}
    assert (await client.get(f"/v1.0/me/events/{third['id']}", headers=auth)).status_code == 404


async def test_an_occurrence_cannot_carry_a_recurrence(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await make_series(client, auth)
    first = (await view(client, auth))[0]
    response = await client.patch(
        f"/v1.0/me/events/{first['id']}", headers=auth, json={"recurrence": WEEKLY}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "recurrence",
    [
        {"pattern": {"type": "weekly", "interval": 1}, "range": WEEKLY["range"]},
        {"pattern": {"type": "hourly", "interval": 1}, "range": WEEKLY["range"]},
        {"pattern": {"type": "daily", "interval": 0}, "range": WEEKLY["range"]},
        {
            "pattern": WEEKLY["pattern"],
            "range": {"type": "numbered", "startDate": "2026-03-24", "numberOfOccurrences": 3},
        },
        {"pattern": WEEKLY["pattern"], "range": {"type": "endDate", "startDate": "2026-03-23"}},
    ],
)
async def test_invalid_recurrences_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], recurrence: dict[str, Any]
) -> None:
    response = await client.post("/v1.0/me/events", headers=auth, json=series(recurrence))
    assert response.status_code == 400, response.text


async def test_relative_monthly_last_friday(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    recurrence = {
        "pattern": {
            "type": "relativeMonthly",
            "interval": 1,
            "daysOfWeek": ["friday"],
            "index": "last",
        },
        "range": {"type": "endDate", "startDate": "2026-01-30", "endDate": "2026-04-30"},
    }
    await make_series(client, auth, recurrence=recurrence, day="2026-01-30")
    days = [o["start"]["dateTime"][:10] for o in await view(client, auth)]
    assert days == ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24"]


async def test_all_day_yearly_series(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {
        "subject": "Visa renewal reminder",
        "isAllDay": True,
        "start": {"dateTime": "2026-02-10T00:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-02-11T00:00:00", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 10, "month": 2},
            "range": {"type": "noEnd", "startDate": "2026-02-10"},
        },
    }
    assert (await client.post("/v1.0/me/events", headers=auth, json=body)).status_code == 201
    response = await client.get(
        "/v1.0/me/calendarView?startDateTime=2026-01-01T00:00:00Z&endDateTime=2029-01-01T00:00:00Z",
        headers=auth,
    )
    items = response.json()["value"]
    assert [(i["start"]["dateTime"], i["end"]["dateTime"][:10]) for i in items] == [
        ("2026-02-10T00:00:00.0000000", "2026-02-11"),
        ("2027-02-10T00:00:00.0000000", "2027-02-11"),
        ("2028-02-10T00:00:00.0000000", "2028-02-11"),
    ]
