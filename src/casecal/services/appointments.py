"""Appointment use cases: validation of times, all-day dates and recurrence, then save."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import overrides
from casecal.domain import validation as v
from casecal.domain.series_limits import check_series_limits
from casecal.errors import Conflict, PermissionDenied, ValidationFailed
from casecal.services.access import Actor, require_editor
from casecal.services.entries import (
    assign,
    check_appointment_owner,
    get_entry,
    save_new,
    save_update,
)
from casecal.services.lookups import get_firm, get_in_firm
from casecal.services.outbox import audience_of
from casecal.services.privacy import public, require_full
from casecal.store.tables import Appointment, Case, User

_TIMED = ("start_at", "end_at")
_ALL_DAY = ("start_date", "end_date")


def _times(
    draft: dict[str, Any], given: Mapping[str, Any], kept: str | None = None
) -> dict[str, Any]:
    """Validate the time fields of the merged ``draft``; ``given`` is what the caller sent,
    ``kept`` the rule stored before (a series imported beyond the limits stays editable)."""
    zone = v.time_zone(draft["time_zone"])
    all_day = bool(draft["all_day"])
    unused = _TIMED if all_day else _ALL_DAY
    for name in unused:
        if given.get(name) is not None:
            kind = "an all-day" if all_day else "a timed"
            raise ValidationFailed(f"{name} is not used by {kind} appointment", field=name)
    rule = v.normalize_rrule(draft["rrule"]) if draft.get("rrule") else None
    exdates = v.parse_exdates(list(draft.get("exdates") or []), all_day=all_day, zone=zone)
    if exdates and rule is None:
        raise ValidationFailed("exdates need an rrule", field="exdates")
    out: dict[str, Any] = {"time_zone": zone.key, "all_day": all_day, "rrule": rule}
    out["exdates"] = exdates
    if all_day:
        if draft.get("start_date") is None:
            raise ValidationFailed("an all-day appointment needs start_date", field="start_date")
        start_date, end_date = v.all_day_dates(draft["start_date"], draft.get("end_date"))
        if rule is not None and rule != kept:
            check_series_limits(rule, start_date, zone)
        span = v.all_day_span(start_date, end_date, zone, rule, tuple(exdates))
        out |= {"start_date": start_date, "end_date": end_date, "start_at": None, "end_at": None}
    else:
        for name in _TIMED:
            if draft.get(name) is None:
                raise ValidationFailed(f"a timed appointment needs {name}", field=name)
        start = v.to_utc(draft["start_at"], zone, "start_at")
        end = v.to_utc(draft["end_at"], zone, "end_at")
        v.check_order(start, end, start_field="start_at", end_field="end_at")
        if rule is not None and rule != kept:
            check_series_limits(rule, start, zone)
        span = v.timed_span(start, end, zone, rule, tuple(exdates))
        out |= {"start_at": start, "end_at": end, "start_date": None, "end_date": None}
    out |= {"starts_at": span.starts_at, "ends_at": span.ends_at}
    changes = v.parse_overrides(
        list(draft.get("overrides") or []), all_day=all_day, zone=zone, rule=rule,
        first=out["start_date"] if all_day else out["start_at"], exdates=exdates,
        lenient="overrides" not in given,
    )  # fmt: skip
    out["overrides"] = [overrides.to_stored(change) for change in changes]
    return out


async def _references(
    session: AsyncSession, actor: Actor, draft: dict[str, Any], given: Mapping[str, Any]
) -> None:
    if "owner_id" in given:
        await get_in_firm(session, User, draft["owner_id"], actor.firm_id, field="owner_id")
        check_appointment_owner(actor, draft["owner_id"])
    if given.get("case_id") is not None:
        await get_in_firm(session, Case, draft["case_id"], actor.firm_id, field="case_id")


_SERIES = ("time_zone", "all_day", "rrule", "exdates", "overrides")
_PLAIN = (
    "title", "notes", "location", "attendees", "reminder_minutes", "private", "show_as",
    "case_id", "owner_id",
)  # fmt: skip


async def create_appointment(
    session: AsyncSession, actor: Actor, data: Mapping[str, Any]
) -> Appointment:
    """Create an appointment; the owner defaults to the caller, the zone to the firm's."""
    require_editor(actor, "create appointments")
    firm = await get_firm(session, actor.firm_id)
    draft: dict[str, Any] = {"owner_id": actor.user_id, "time_zone": firm.time_zone}
    draft |= {"all_day": False, "rrule": None, "exdates": [], "overrides": [], "attendees": []}
    draft |= {k: val for k, val in data.items() if val is not None or k not in draft}
    await _references(session, actor, draft, {"owner_id": draft["owner_id"], **data})
    values = _times(draft, data)
    plain = {k: draft[k] for k in _PLAIN if k in draft}
    entry = Appointment(id=uuid.uuid4(), firm_id=actor.firm_id, **plain, **values)
    await save_new(session, entry)
    return entry


async def update_appointment(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID, data: Mapping[str, Any]
) -> Appointment:
    entry = await get_entry(session, actor, Appointment, entry_id)
    require_full(actor, entry)
    require_editor(actor, "change appointments")
    check_appointment_owner(actor, entry.owner_id)
    draft: dict[str, Any] = {k: getattr(entry, k) for k in (*_PLAIN, *_TIMED, *_ALL_DAY, *_SERIES)}
    if data.get("start_at") is not None and entry.start_at is not None and "end_at" not in data:
        draft["end_at"] = data["start_at"] + ((entry.end_at or entry.start_at) - entry.start_at)
    draft |= dict(data)
    await _references(session, actor, draft, data)
    before = await audience_of(session, entry)
    values = _times(draft, data, kept=entry.rrule)
    plain = {k: draft[k] for k in _PLAIN}
    changed = assign(entry, plain | values)
    await save_update(session, entry, before, changed)
    return entry


async def read_appointment(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID
) -> Appointment | dict[str, Any]:
    """The appointment as the actor may see it: in full, or a busy block (``privacy``)."""
    return public(actor, await get_entry(session, actor, Appointment, entry_id))


async def share_appointment(
    session: AsyncSession, actor: Actor, entry_id: uuid.UUID, *, shared: bool
) -> Appointment:
    """The owner shares an appointment imported from their calendar with the firm (or takes
    it back). Only the owner may: nobody else sees it in full to decide."""
    entry = await get_entry(session, actor, Appointment, entry_id)
    require_full(actor, entry)
    if entry.owner_id != actor.user_id:
        raise PermissionDenied("only the owner may share or unshare an appointment")
    if entry.origin != "remote":
        raise Conflict("only appointments imported from a calendar are shared or unshared")
    before = await audience_of(session, entry)
    await save_update(session, entry, before, assign(entry, {"shared": shared}))
    return entry
