"""The meeting mail Exchange sends on the organizer's behalf, recorded instead of sent.

Graph has no ``sendUpdates=none``: writing ``attendees`` is sending. An event created with
attendees mails each an invitation; a change of its attendees invites the added and cancels
the removed; a change of its time (or recurrence) mails the others an update; deleting a
meeting, or one occurrence of it, mails each attendee a cancellation. Tests read the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from casecal.emulators.microsoft.state import MicrosoftState, StoredEvent


@dataclass(frozen=True)
class SentMessage:
    """One meeting message as Exchange would have mailed it."""

    kind: str
    """``invitation``, ``update`` or ``cancellation``."""
    to: str
    subject: str
    event_id: str
    """The immutable id of the event (the series master for an occurrence)."""
    organizer_oid: str
    at: str
    occurrence: str | None = None
    """The original start of the one occurrence concerned, if any."""


@dataclass(frozen=True)
class Meeting:
    """What an event's mail depends on: who is invited and when it is."""

    attendees: frozenset[str]
    schedule: tuple[str, ...]


def meeting_of(event: StoredEvent, fallback: Meeting | None = None) -> Meeting:
    """The attendees and times of ``event``; an occurrence without its own attendees list has
    its series' (``fallback``)."""
    raw = event.props.get("attendees")
    if raw is None and fallback is not None:
        people = fallback.attendees
    else:
        people = frozenset(_addresses(raw))
    schedule = (
        _text(event.start),
        _text(event.end),
        event.start_tz,
        repr(sorted((event.recurrence or {}).items())),
    )
    return Meeting(people, schedule)


def record(
    state: MicrosoftState,
    event: StoredEvent,
    before: Meeting | None,
    after: Meeting | None,
    *,
    master: StoredEvent | None = None,
    slot: datetime | date | None = None,
) -> None:
    """Record the mail a change from ``before`` to ``after`` sends (``None``: the event did
    not exist / no longer exists). ``master`` and ``slot`` name the series and original start
    of an occurrence."""
    owner = master or event
    occurrence = _text(slot) if slot is not None else None
    old = before.attendees if before is not None else frozenset()
    new = after.attendees if after is not None else frozenset()
    kept = old & new
    messages = [("invitation", person) for person in sorted(new - old)]
    messages += [("cancellation", person) for person in sorted(old - new)]
    if before is not None and after is not None and before.schedule != after.schedule:
        messages += [("update", person) for person in sorted(kept)]
    subject = str(event.props.get("subject") or owner.props.get("subject") or "")
    now = state.clock.now().isoformat()
    for kind, person in messages:
        state.sent_messages.append(
            SentMessage(kind, person, subject, owner.immutable_id, owner.owner_oid, now, occurrence)
        )


def _addresses(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    found = []
    for item in raw:
        email = (item.get("emailAddress") or {}).get("address") if isinstance(item, dict) else None
        if isinstance(email, str) and email.strip():
            found.append(email.strip().lower())
    return found


def _text(value: datetime | date | None) -> str:
    return "" if value is None else value.isoformat()
