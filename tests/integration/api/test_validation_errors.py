"""Bad input answers problem+json with a useful detail and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import (
    API,
    APPOINTMENT,
    COURT,
    FirmWorld,
    count,
    is_problem,
)

from casecal.store.tables import Appointment, CourtDate, OutboxRow, Seat

BAD_APPOINTMENTS: list[tuple[dict[str, Any], str, str]] = [
    ({"end_at": "2026-03-12T13:00:00Z"}, "end_at", "before start_at"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
    ({"rrule": "FREQ=SOMETIMES"}, "rrule", "FREQ"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "does not parse"),
    ({"rrule": "DTSTART:20260101T000000Z;FREQ=DAILY"}, "rrule", "DTSTART"),
    ({"rrule": "FREQ=DAILY;COUNT=3;UNTIL=20260401T000000Z"}, "rrule", "COUNT and UNTIL"),
    ({"rrule": "FREQ=DAILY;UNTIL=20260401"}, "rrule", "UTC"),
    ({"exdates": ["not-a-date"], "rrule": "FREQ=DAILY"}, "exdates.0", "ISO datetime"),
    ({"start_at": "2026-03-08T02:30:00", "end_at": "2026-03-08T04:00:00",
      "time_zone": "America/New_York"}, "start_at", "daylight-saving gap"),
    ({"start_at": "1500-01-01T00:00:00Z"}, "start_at", "outside"),
    ({"all_day": True, "start_date": "2026-07-03", "end_date": "2026-07-03",
      "start_at": None, "end_at": None}, "end_date", "exclusive"),
    ({"all_day": True, "start_date": "2026-07-03"}, "start_at", "all-day"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "words"), BAD_APPOINTMENTS)
async def test_bad_appointment_is_rejected(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    change: dict[str, Any],
    field: str,
    words: str,
) -> None:
    body = {k: v for k, v in {**APPOINTMENT, **change}.items() if v is not None}
    response = await client.post(f"{API}/appointments", json=body, headers=firm_a.cm1.auth)
    problem = is_problem(response, 422)
    assert problem["field"] == field
    assert words in str(problem["detail"])
    assert await count(sessionmaker, Appointment) == 0
    assert await count(sessionmaker, OutboxRow) == 0


async def test_bad_patch_changes_nothing(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
) -> None:
    made = await client.post(f"{API}/appointments", json=APPOINTMENT, headers=firm_a.cm1.auth)
    url = f"{API}/appointments/{made.json()['id']}"
    before = await count(sessionmaker, OutboxRow)
    bad = {"title": "new", "end_at": "2026-03-12T10:00:00Z"}
    is_problem(await client.patch(url, json=bad, headers=firm_a.cm1.auth), 422)
    after = (await client.get(url, headers=firm_a.cm1.auth)).json()
    assert after == made.json()
    assert await count(sessionmaker, OutboxRow) == before


async def test_one_day_all_day_end_is_the_next_day(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    body = {"title": "Holiday", "all_day": True, "start_date": "2026-07-03",
            "end_date": "2026-07-04"}  # fmt: skip
    made = await client.post(f"{API}/appointments", json=body, headers=firm_a.cm1.auth)
    assert made.status_code == 201, made.text
    assert made.json()["end_date"] == "2026-07-04"


async def test_case_of_another_firm_is_404_on_the_field(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    firm_b: FirmWorld,
) -> None:
    body = {**COURT, "case_id": firm_b.case_id}
    problem = is_problem(
        await client.post(f"{API}/court-dates", json=body, headers=firm_a.cm1.auth), 404
    )
    assert problem["field"] == "case_id"
    assert "case_id" in str(problem["detail"])
    assert await count(sessionmaker, CourtDate) == 0


async def test_seat_for_a_non_case_manager_is_422(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
) -> None:
    assert (await client.post(f"{API}/subscription", headers=firm_a.admin.auth)).status_code == 201
    response = await client.post(
        f"{API}/subscription/seats", json={"user_id": firm_a.staff.id}, headers=firm_a.admin.auth
    )
    problem = is_problem(response, 422)
    assert problem["field"] == "user_id"
    assert "not an active case manager" in str(problem["detail"])
    assert await count(sessionmaker, Seat) == 0


async def test_unknown_field_and_bad_types_are_problem_json(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    response = await client.post(
        f"{API}/appointments", json={**APPOINTMENT, "colour": "red"}, headers=firm_a.cm1.auth
    )
    problem = is_problem(response, 422)
    assert "colour" in str(problem["detail"])
    ranged = await client.get(
        f"{API}/appointments", params={"start": "2026-03-12T00:00:00"}, headers=firm_a.cm1.auth
    )
    assert "UTC offset" in str(is_problem(ranged, 422)["detail"])
