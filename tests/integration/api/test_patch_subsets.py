"""Any subset of valid fields in a PATCH of an existing entry answers 2xx or 4xx, never a 5xx:
the generated bodies of the schema-wide fuzz run rarely hit a valid partial change of an
existing resource (a PATCH with only ``start_at`` answered 500 unnoticed). Each kind is
patched with a random subset of valid values, timed and all-day, single and recurring."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.api.conftest import API, APPOINTMENT, COURT, INTERVIEW, REMINDER, FirmWorld

APPOINTMENT_FIELDS: dict[str, Any] = {
    "title": "Moved", "notes": "n", "location": "Room 2", "all_day": False,
    "start_at": "2026-03-13T09:30:00Z", "end_at": "2026-03-13T11:00:00Z",
    "start_date": "2026-03-14", "end_date": "2026-03-15", "time_zone": "Europe/Paris",
    "reminder_minutes": 15, "private": True, "show_as": "free",
    "rrule": "FREQ=WEEKLY;COUNT=3", "exdates": [], "case_id": None,
}  # fmt: skip
ENTRY_FIELDS: dict[str, dict[str, Any]] = {
    "court-dates": {"hearing_type": "Individual", "court_name": "C", "judge": "J",
                    "start_at": "2026-03-13T09:30:00-05:00", "duration_minutes": 90,
                    "time_zone": "America/Chicago", "assigned_user_id": None},
    "interviews": {"interview_type": "Biometrics", "officer": "O", "documents": "D",
                   "start_at": "2026-03-13T09:30:00", "duration_minutes": 30,
                   "time_zone": "America/New_York"},
    "step-reminders": {"step_name": "File I-485", "due_date": "2026-04-01", "notes": "x"},
}  # fmt: skip
BODIES = {"court-dates": COURT, "interviews": INTERVIEW, "step-reminders": REMINDER}
SERIES = {**APPOINTMENT, "rrule": "FREQ=DAILY;COUNT=5"}
ALL_DAY = {"title": "Off", "all_day": True, "start_date": "2026-03-12", "end_date": "2026-03-13"}
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _subset(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sets(st.sampled_from(sorted(fields)), min_size=1, max_size=4)
    return keys.map(lambda chosen: {key: fields[key] for key in chosen})


async def _made(
    client: httpx.AsyncClient, world: FirmWorld, path: str, body: dict[str, Any]
) -> str:
    made = await client.post(f"{API}/{path}", json=body, headers=world.cm1.auth)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@FUZZ
@given(patch=_subset(APPOINTMENT_FIELDS), start=st.sampled_from([APPOINTMENT, SERIES, ALL_DAY]))
async def test_patching_an_appointment_never_fails(
    client: httpx.AsyncClient, firm_a: FirmWorld, patch: dict[str, Any], start: dict[str, Any]
) -> None:
    entry = await _made(client, firm_a, "appointments", start)
    url = f"{API}/appointments/{entry}"
    response = await client.patch(url, json=patch, headers=firm_a.cm1.auth)
    assert response.status_code < 500, (patch, response.text)


@FUZZ
@given(kind_and_patch=st.sampled_from(sorted(ENTRY_FIELDS)).flatmap(
    lambda kind: st.tuples(st.just(kind), _subset(ENTRY_FIELDS[kind]))
))  # fmt: skip
async def test_patching_a_case_entry_never_fails(
    client: httpx.AsyncClient, firm_a: FirmWorld, kind_and_patch: tuple[str, dict[str, Any]]
) -> None:
    kind, patch = kind_and_patch
    entry = await _made(client, firm_a, kind, {**BODIES[kind], "case_id": firm_a.case_id})
    response = await client.patch(f"{API}/{kind}/{entry}", json=patch, headers=firm_a.cm1.auth)
    assert response.status_code < 500, (patch, response.text)
