"""Court dates, interviews and step reminders: entries that belong to a case."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import validation as v
from casecal.services.access import Actor, require_editor
from casecal.services.entries import assign, get_entry, save_new, save_update
from casecal.services.lookups import get_firm, get_in_firm
from casecal.services.outbox import audience_of
from casecal.store.tables import Case, CourtDate, Interview, StepReminder, User

C = TypeVar("C", CourtDate, Interview, StepReminder)


async def _references(session: AsyncSession, actor: Actor, given: Mapping[str, Any]) -> None:
    if given.get("case_id") is not None:
        await get_in_firm(session, Case, given["case_id"], actor.firm_id, field="case_id")
    if given.get("assigned_user_id") is not None:
        await get_in_firm(
            session, User, given["assigned_user_id"], actor.firm_id, field="assigned_user_id"
        )


async def _span_values(
    session: AsyncSession, actor: Actor, model: type[C], draft: dict[str, Any]
) -> dict[str, Any]:
    """Validated times and the UTC span of the merged ``draft``."""
    if model is StepReminder:
        due = v.check_date(draft["due_date"], "due_date")
        reminder = draft.get("reminder_date")
        if reminder is not None:
            v.check_date(reminder, "reminder_date")
        firm = await get_firm(session, actor.firm_id)
        span = v.day_span(reminder or due, v.time_zone(firm.time_zone))
        return {"starts_at": span.starts_at, "ends_at": span.ends_at}
    zone = v.time_zone(draft["time_zone"])
    start = v.to_utc(draft["start_at"], zone, "start_at")
    span = v.duration_span(start, int(draft["duration_minutes"]))
    return {
        "time_zone": zone.key,
        "start_at": start,
        "starts_at": span.starts_at,
        "ends_at": span.ends_at,
    }


_DEFAULT_DURATION = {CourtDate: 120, Interview: 60}


async def create_case_entry(
    session: AsyncSession, actor: Actor, model: type[C], data: Mapping[str, Any]
) -> C:
    """Create a court date, interview or step reminder; its zone defaults to the firm's."""
    require_editor(actor, "create entries")
    await _references(session, actor, data)
    draft = {k: val for k, val in data.items() if val is not None}
    if model is not StepReminder:
        firm = await get_firm(session, actor.firm_id)
        draft.setdefault("time_zone", firm.time_zone)
        draft.setdefault("duration_minutes", _DEFAULT_DURATION[model])
    draft |= await _span_values(session, actor, model, draft)
    entry = model(id=uuid.uuid4(), firm_id=actor.firm_id, **draft)
    await save_new(session, entry)
    return entry


async def update_case_entry(
    session: AsyncSession,
    actor: Actor,
    model: type[C],
    entry_id: uuid.UUID,
    data: Mapping[str, Any],
) -> C:
    entry = await get_entry(session, actor, model, entry_id)
    require_editor(actor, "change entries")
    await _references(session, actor, data)
    before = await audience_of(session, entry)
    columns = [c.key for c in model.__table__.columns]
    draft = {k: getattr(entry, k) for k in columns} | dict(data)
    values = dict(data) | await _span_values(session, actor, model, draft)
    changed = assign(entry, values)
    await save_update(session, entry, before, changed)
    return entry
