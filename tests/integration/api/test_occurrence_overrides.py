"""Occurrences of a recurring appointment changed on their own, through the API: accepted and
shown in the series' zone, refused with a clear problem when they name no occurrence of the
series, and dropped quietly when a later change of the series leaves their occurrence."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld, count, is_problem

from casecal.store.tables import Appointment, OutboxRow

SERIES = {
    "title": "Weekly client call",
    "start_at": "2026-03-02T09:00:00",
    "end_at": "2026-03-02T09:30:00",
    "time_zone": "America/New_York",
    "rrule": "FREQ=WEEKLY;COUNT=4",
}
SECOND = {  # the second occurrence, after New York's change to daylight-saving time
    "original_start": "2026-03-09T09:00:00",
    "title": "Client call (moved)",
    "start": "2026-03-10T14:00:00",
    "end": "2026-03-10T15:00:00",
    "location": "Conference room B",
}


async def test_an_override_is_kept_and_shown_in_the_series_zone(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    made = await client.post(
        f"{API}/appointments", json={**SERIES, "overrides": [SECOND]}, headers=firm_a.cm1.auth
    )
    assert made.status_code == 201, made.text
    [override] = made.json()["overrides"]
    assert override == {
        "original_start": "2026-03-09T09:00:00-04:00",
        "title": "Client call (moved)",
        "start": "2026-03-10T14:00:00-04:00",
        "end": "2026-03-10T15:00:00-04:00",
        "location": "Conference room B",
        "notes": "",
    }
    # PATCH replaces the list; an empty list removes it.
    url = f"{API}/appointments/{made.json()['id']}"
    cleared = await client.patch(url, json={"overrides": []}, headers=firm_a.cm1.auth)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["overrides"] == []


BAD_OVERRIDES: list[tuple[dict[str, Any], list[dict[str, Any]], str, str]] = [
    ({}, [{**SECOND, "original_start": "2026-03-09T10:00:00"}],
     "overrides.0.original_start", "not an occurrence"),
    ({}, [{**SECOND, "original_start": "2026-03-30T09:00:00"}],
     "overrides.0.original_start", "not an occurrence"),  # past COUNT=4
    ({}, [{**SECOND, "end": "2026-03-10T13:00:00"}], "overrides.0.end", "ends after"),
    ({}, [{**SECOND, "start": "next tuesday"}], "overrides.0.start", "ISO datetime"),
    ({}, [SECOND, {**SECOND, "title": "twice"}], "overrides.1.original_start", "one override"),
    ({"exdates": ["2026-03-09T09:00:00"]}, [SECOND], "overrides.0.original_start", "cancelled"),
    ({"rrule": None}, [SECOND], "overrides", "need an rrule"),
]  # fmt: skip


@pytest.mark.parametrize(("series", "overrides", "field", "words"), BAD_OVERRIDES)
async def test_a_bad_override_is_refused_and_nothing_saved(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    series: dict[str, Any],
    overrides: list[dict[str, Any]],
    field: str,
    words: str,
) -> None:
    body = {k: v for k, v in {**SERIES, **series, "overrides": overrides}.items() if v is not None}
    response = await client.post(f"{API}/appointments", json=body, headers=firm_a.cm1.auth)
    problem = is_problem(response, 422)
    assert problem["field"] == field, problem
    assert words in str(problem["detail"]), problem
    assert await count(sessionmaker, Appointment) == 0
    assert await count(sessionmaker, OutboxRow) == 0


async def test_a_series_change_drops_overrides_of_occurrences_it_no_longer_has(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    fourth = {**SECOND, "original_start": "2026-03-23T09:00:00", "title": "Last call",
              "start": "2026-03-23T11:00:00", "end": "2026-03-23T12:00:00"}  # fmt: skip
    body = {**SERIES, "overrides": [SECOND, fourth]}
    made = await client.post(f"{API}/appointments", json=body, headers=firm_a.cm1.auth)
    assert made.status_code == 201, made.text
    url = f"{API}/appointments/{made.json()['id']}"
    shorter = await client.patch(
        url, json={"rrule": "FREQ=WEEKLY;COUNT=3"}, headers=firm_a.cm1.auth
    )
    assert shorter.status_code == 200, shorter.text
    assert [o["title"] for o in shorter.json()["overrides"]] == ["Client call (moved)"]
    cancelled = await client.patch(
        url, json={"exdates": ["2026-03-09T09:00:00"]}, headers=firm_a.cm1.auth
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["overrides"] == []
