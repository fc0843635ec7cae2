"""The rows a person's calendar page shows in a time range: their own live appointments
(imported ones included) and the live case entries that name them or, naming nobody, belong
to a case they manage, each with its case number. The page turns them into what it draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor
from casecal.services.calendar_feed import (
    CASE_ENTRY_MODELS,
    overlapping,
    own_appointments,
    own_case_entries,
)
from casecal.store.tables import Appointment, Case, CourtDate, Interview, StepReminder

CaseEntry = CourtDate | Interview | StepReminder


@dataclass
class CalendarRows:
    appointments: list[Appointment] = field(default_factory=list)
    case_entries: list[tuple[CaseEntry, str]] = field(default_factory=list)
    """Each with the number of its case."""


async def calendar_rows(
    session: AsyncSession, actor: Actor, start: datetime, end: datetime
) -> CalendarRows:
    """``actor``'s live entries overlapping [start, end) (the same scope the page's version
    token, ``calendar_feed.calendar_version``, is computed over)."""
    found = CalendarRows()
    appointments = await session.scalars(
        select(Appointment).where(
            own_appointments(actor),
            Appointment.deleted_at.is_(None),
            overlapping(Appointment, [(start, end)]),
        )
    )
    found.appointments = list(appointments)
    for model in CASE_ENTRY_MODELS:
        rows = await session.execute(
            select(model, Case.number)
            .join(Case, Case.id == model.case_id)
            .where(
                own_case_entries(model, actor),
                model.deleted_at.is_(None),
                overlapping(model, [(start, end)]),
            )
        )
        found.case_entries += [(cast(CaseEntry, row), str(num)) for row, num in rows.all()]
    return found
