"""The API refuses series that never end or reach too far (issue 11 item 6), naming the field;
a series imported from a calendar beyond the limits stays editable in its other fields."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, APPOINTMENT, FirmWorld, count, is_problem

from casecal.store.tables import Appointment, OutboxRow


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=DAILY", "never ends"),
        ("FREQ=DAILY;COUNT=1000000", "too many"),
        ("FREQ=DAILY;UNTIL=99991231T235959Z", "more than 10 years"),
    ],
)
async def test_endless_and_enormous_series_are_refused(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    rule: str,
    words: str,
) -> None:
    body = {**APPOINTMENT, "rrule": rule}
    problem = is_problem(
        await client.post(f"{API}/appointments", json=body, headers=firm_a.cm1.auth), 422
    )
    assert problem["field"] == "rrule"
    assert words in str(problem["detail"])
    assert await count(sessionmaker, Appointment) == 0
    assert await count(sessionmaker, OutboxRow) == 0


async def test_all_day_series_are_held_to_the_same_limits(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    body = {"title": "Filing window", "all_day": True, "start_date": "2026-07-03",
            "start_at": None, "end_at": None}  # fmt: skip
    body = {k: v for k, v in {**APPOINTMENT, **body}.items() if v is not None}
    refused = await client.post(
        f"{API}/appointments", json={**body, "rrule": "FREQ=YEARLY"}, headers=firm_a.cm1.auth
    )
    assert is_problem(refused, 422)["field"] == "rrule"
    made = await client.post(
        f"{API}/appointments",
        json={**body, "rrule": "FREQ=YEARLY;COUNT=10"},
        headers=firm_a.cm1.auth,
    )
    assert made.status_code == 201, made.text


async def test_a_series_imported_beyond_the_limits_stays_editable(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
) -> None:
    made = await client.post(
        f"{API}/appointments",
        json={**APPOINTMENT, "rrule": "FREQ=DAILY;COUNT=3"},
        headers=firm_a.cm1.auth,
    )
    assert made.status_code == 201, made.text
    entry_id = uuid.UUID(made.json()["id"])
    async with sessionmaker() as session, session.begin():  # as the engine stores an import
        await session.execute(
            update(Appointment)
            .where(Appointment.id == entry_id)
            .values(rrule="FREQ=DAILY", ends_at=None)
        )
    url = f"{API}/appointments/{entry_id}"
    renamed = await client.patch(url, json={"title": "Standup"}, headers=firm_a.cm1.auth)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["rrule"] == "FREQ=DAILY"
    changed = await client.patch(
        url, json={"rrule": "FREQ=DAILY;COUNT=100000"}, headers=firm_a.cm1.auth
    )
    assert is_problem(changed, 422)["field"] == "rrule"
