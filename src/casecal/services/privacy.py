"""The appointment visibility rule (``casecal.domain.visibility``) applied to queries and
results: rows a viewer may not see are left out in SQL, busy blocks are copies with the
details removed (the stored row is never touched)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from casecal.domain.visibility import BUSY_TITLE, Facts, View, Viewer, view_of
from casecal.errors import NotFound, PermissionDenied
from casecal.services.access import Actor
from casecal.store.tables import Appointment


def viewer(actor: Actor) -> Viewer:
    return Viewer(user_id=actor.user_id, is_admin=actor.is_admin)


def facts(row: Appointment) -> Facts:
    return Facts(
        owner_id=row.owner_id,
        imported=row.origin == "remote",
        has_case=row.case_id is not None,
        private=bool(row.private),
        shared=bool(row.shared),
    )


def view(actor: Actor, row: Appointment) -> View:
    return view_of(viewer(actor), facts(row))


def visible(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition for the appointments ``actor`` sees at all (full or busy): the
    HIDDEN case of ``view_of`` in SQL (the within-firm matrix test holds the two together)."""
    personal = and_(
        Appointment.origin == "remote",
        Appointment.case_id.is_(None),
        Appointment.shared.is_(false()),
    )
    if actor.is_admin:
        return true()  # admins see every appointment, at least as a busy block
    return or_(Appointment.owner_id == actor.user_id, not_(personal))


_BLANK: dict[str, Any] = {"notes": "", "location": "", "attendees": [], "case_id": None,
                          "reminder_minutes": None}  # fmt: skip
_SHOWN = (
    "id", "version", "created_at", "updated_at", "starts_at", "ends_at", "owner_id", "all_day",
    "start_at", "end_at", "start_date", "end_date", "time_zone", "private", "show_as", "rrule",
    "exdates", "origin", "shared",
)  # fmt: skip


def busy_block(row: Appointment) -> dict[str, Any]:
    """What a busy block shows: when, and that it is busy; occurrences changed on their own
    keep their times and lose their titles, places and notes."""
    shown = {name: getattr(row, name) for name in _SHOWN} | _BLANK
    changed = [
        {**change, "title": BUSY_TITLE, "location": "", "notes": ""}
        for change in row.overrides or []
    ]
    return shown | {"title": BUSY_TITLE, "overrides": changed, "busy_block": True}


def public(actor: Actor, row: Appointment) -> Appointment | dict[str, Any]:
    """The appointment as ``actor`` may read it (full or a busy block); NotFound if hidden."""
    seen = view(actor, row)
    if seen is View.HIDDEN:
        raise _missing(row)
    return row if seen is View.FULL else busy_block(row)


def require_full(actor: Actor, row: Appointment) -> None:
    """Changing an appointment needs seeing all of it."""
    seen = view(actor, row)
    if seen is View.HIDDEN:
        raise _missing(row)
    if seen is View.BUSY:
        raise PermissionDenied("this appointment is private to its owner")


_WHEN = ("start", "end", "time_zone", "deleted", "occurrence", "original_start", "removed")


def busy_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A conflict's version of an appointment as a busy block: when, not what."""
    kept = {key: value for key, value in snapshot.items() if key in _WHEN}
    return kept if snapshot.get("deleted") else kept | {"title": BUSY_TITLE}


def _missing(row: Appointment) -> NotFound:
    """Hidden answers exactly like missing (the same words as ``lookups.get_in_firm``)."""
    return NotFound(f"no appointment with id {row.id} in this firm")
