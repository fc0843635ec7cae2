"""What the entry pages read and write: an entry the viewer may see (or nothing, as if it did
not exist), the choices of the form's selects, and the entry services called with a form's
values."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.entries import EntryKind
from casecal.domain.visibility import View
from casecal.errors import NotFound
from casecal.services import entries, privacy
from casecal.services.access import Actor
from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.case_entries import create_case_entry, update_case_entry
from casecal.services.cases import list_cases
from casecal.services.entry_view import calendar_recipients, entry_names
from casecal.services.paging import MAX_LIMIT
from casecal.services.users import list_users
from casecal.store.tables import ENTRY_TABLES, Appointment, Role

EntryRow = Any
"""An Appointment, CourtDate, Interview or StepReminder row."""

CLEARABLE = {
    EntryKind.APPOINTMENT: ("case_id",),
    EntryKind.COURT_DATE: ("assigned_user_id",),
    EntryKind.INTERVIEW: ("assigned_user_id",),
    EntryKind.STEP_REMINDER: ("assigned_user_id", "reminder_date"),
}
"""Optional selects and dates a form clears by leaving them empty."""


def kind_of(value: str) -> EntryKind | None:
    try:
        return EntryKind(value)
    except ValueError:
        return None


def may_see(actor: Actor, entry: EntryRow) -> bool:
    """Whether the viewer may open ``entry``: all of it (``services.privacy``); a busy block
    has nothing to open, and a hidden appointment answers like a missing one."""
    return not isinstance(entry, Appointment) or privacy.view(actor, entry) is View.FULL


def may_edit(actor: Actor, entry: EntryRow | None = None) -> bool:
    """Admins and case managers change entries; a case manager only their own appointments."""
    if actor.role not in (Role.FIRM_ADMIN, Role.CASE_MANAGER):
        return False
    if isinstance(entry, Appointment):
        return actor.is_admin or entry.owner_id == actor.user_id
    return True


async def visible_entry(
    session: AsyncSession, actor: Actor, kind: str, raw_id: str
) -> EntryRow | None:
    """The live entry ``/entries/<kind>/<id>`` names if the viewer may see it; otherwise
    ``None``, the same for an unknown kind, a malformed id, another firm's entry, a deleted
    one and one the viewer may not see."""
    entry_kind = kind_of(kind)
    try:
        entry_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    if entry_kind is None:
        return None
    try:
        entry = await entries.get_entry(session, actor, ENTRY_TABLES[entry_kind], entry_id)
    except NotFound:
        return None
    return entry if may_see(actor, entry) else None


async def names(session: AsyncSession, entry: EntryRow) -> dict[str, str]:
    """Readable names of the people and the case ``entry`` refers to, by id."""
    return await entry_names(session, entry)


async def calendars_of(session: AsyncSession, actor: Actor, entry: EntryRow) -> str:
    """Whose calendars ``entry`` goes to, in words for the notice after saving it: the
    appointment's owner, the person a case entry names, or else the case's case managers
    (so a court date saved on a colleague's case says it went to the colleague); ``""`` when
    it goes to nobody's."""
    found = await calendar_recipients(session, actor, entry)
    named = ["you" if p.id == actor.user_id else f"{p.name} ({p.email})" for p in found.people]
    if not named:
        return ""
    if named == ["you"]:
        return "your calendar" + (" (you manage its case)" if found.managers else "")
    whose = "the case's case managers: " if found.managers else ""
    listed = ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]
    plural = "s" if len(named) > 1 else ""
    return f"the calendar{plural} of {whose}{listed}"


def saved_notice(calendars: str, *, created: bool) -> str:
    """The notice after an entry is created or changed, naming whose calendars it goes to."""
    if not calendars:
        return (
            "The entry is saved, on no one's calendar: it names nobody and its case has no "
            "case manager."
            if created
            else "Your changes are saved; the entry is on no one's calendar (it names nobody "
            "and its case has no case manager)."
        )
    if created:
        return f"The entry is saved to {calendars}; the next sync carries it there."
    return f"Your changes are saved to {calendars}; the next sync carries them there."


async def choices(session: AsyncSession, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """The options of the forms' selects: the firm's cases and active users."""
    cases = await list_cases(session, actor, limit=MAX_LIMIT, offset=0)
    users = await list_users(session, actor, limit=MAX_LIMIT, offset=0)
    people = [(str(u.id), f"{u.name} ({u.email})") for u in users.items if u.is_active]
    return {
        "case_id": [(str(c.id), f"{c.number} · {c.beneficiary}") for c in cases.items],
        "assigned_user_id": people,
        "owner_id": people,
    }


async def create(
    session: AsyncSession, actor: Actor, kind: EntryKind, data: dict[str, Any]
) -> EntryRow:
    if kind is EntryKind.APPOINTMENT:
        return await create_appointment(session, actor, data)
    return await create_case_entry(session, actor, ENTRY_TABLES[kind], data)


async def update(
    session: AsyncSession, actor: Actor, entry: EntryRow, data: dict[str, Any]
) -> EntryRow:
    """Save a whole form over ``entry``: what the form left empty is cleared."""
    kind = EntryKind(entry.kind)
    changes = dict.fromkeys(CLEARABLE[kind]) | data
    if kind is EntryKind.APPOINTMENT:
        if changes.get("owner_id") is None:
            changes.pop("owner_id", None)  # only admins choose whose calendar
        if changes.get("rrule") is None and (entry.exdates or entry.overrides):
            changes |= {"exdates": [], "overrides": []}  # a single entry has no occurrences
        return await update_appointment(session, actor, entry.id, changes)
    model = ENTRY_TABLES[kind]
    return await update_case_entry(session, actor, model, entry.id, changes)


async def delete(session: AsyncSession, actor: Actor, entry: EntryRow) -> None:
    await entries.delete_entry(session, actor, ENTRY_TABLES[EntryKind(entry.kind)], entry.id)
