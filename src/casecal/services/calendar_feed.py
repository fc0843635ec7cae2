"""Which entries a person's calendar page shows, as SQL conditions, and a short version token
of them: an open calendar page asks for the token every few seconds and redraws only when it
changed, so the check has to be cheap (one statement) and must not reveal anything the page
itself would not show."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor
from casecal.services.privacy import visible
from casecal.store.tables import Appointment, CaseAssignment, CourtDate, Interview, StepReminder

CaseEntryModel = type[CourtDate] | type[Interview] | type[StepReminder]
CASE_ENTRY_MODELS: tuple[CaseEntryModel, ...] = (CourtDate, Interview, StepReminder)

Span = tuple[datetime, datetime]
"""A half-open UTC-aware range [start, end) of the page (the week shown, the agenda)."""

TOKEN = re.compile(r"^[0-9a-f]{20}$")
"""What ``calendar_version`` returns; anything else sent back is not one of ours."""


def own_appointments(actor: Actor) -> ColumnElement[bool]:
    """The appointments on ``actor``'s calendar: their own (imported ones too), never a
    colleague's, and only what the visibility rule lets them see at all."""
    return and_(
        Appointment.firm_id == actor.firm_id,
        Appointment.owner_id == actor.user_id,
        visible(actor),
    )


def own_case_entries(model: CaseEntryModel, actor: Actor) -> ColumnElement[bool]:
    """The case entries on ``actor``'s calendar: those naming them, and those naming nobody
    on a case they manage."""
    managed = select(CaseAssignment.case_id).where(CaseAssignment.user_id == actor.user_id)
    return and_(
        model.firm_id == actor.firm_id,
        or_(
            model.assigned_user_id == actor.user_id,
            and_(model.assigned_user_id.is_(None), model.case_id.in_(managed)),
        ),
    )


def overlapping(
    model: type[Appointment] | CaseEntryModel, spans: Sequence[Span]
) -> ColumnElement[bool]:
    """Rows whose UTC span meets any of ``spans`` (``ends_at`` NULL: a series without end)."""
    return or_(
        *(
            and_(model.starts_at < end, or_(model.ends_at.is_(None), model.ends_at > start))
            for start, end in spans
        )
    )


async def calendar_version(session: AsyncSession, actor: Actor, spans: Sequence[Span]) -> str:
    """A token that changes whenever an entry shown in ``spans`` on ``actor``'s calendar is
    added, changed, moved in or out, or deleted: per kind, the live count, the sum of the
    optimistic-locking versions and the latest change (tombstones included, so a deletion
    counts). One statement; the digest reveals no count or time."""
    parts = []
    for number, (model, scope) in enumerate(
        [(Appointment, own_appointments(actor))]
        + [(m, own_case_entries(m, actor)) for m in CASE_ENTRY_MODELS]
    ):
        parts.append(
            select(
                literal(number).label("kind"),
                func.count(model.id).filter(model.deleted_at.is_(None)).label("live"),
                func.coalesce(func.sum(model.version), 0).label("versions"),
                func.max(model.updated_at).label("latest"),
            ).where(scope, overlapping(model, spans))
        )
    rows = (await session.execute(union_all(*parts))).all()
    seen = sorted(
        (int(kind), int(live), int(versions), str(latest)) for kind, live, versions, latest in rows
    )
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:20]
