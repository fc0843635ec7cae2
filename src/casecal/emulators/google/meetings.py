"""The guest mail Google sends for a write, recorded instead of sent, by ``sendUpdates``.

``none`` sends nothing; ``all`` mails every guest; ``externalOnly`` the guests outside the
organizer's domain. Stricter than Google: a write that names neither ``sendUpdates`` nor
``sendNotifications=false`` counts as ``all`` (Google: "some emails might still be sent").
Added guests get an invitation, removed ones a cancellation, the others an update when the
time or recurrence changed; deleting an event cancels it for every guest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import Clock


@dataclass(frozen=True)
class SentMessage:
    """One guest email as Google would have sent it."""

    kind: str
    """``invitation``, ``update`` or ``cancellation``."""
    to: str
    subject: str
    calendar_id: str
    event_id: str
    send_updates: str
    at: str


def mode(send_updates: str | None, send_notifications: str | None) -> str:
    """The effective ``sendUpdates`` of a request."""
    if send_updates is not None:
        return send_updates
    if send_notifications is not None:
        return "all" if send_notifications.lower() == "true" else "none"
    return "all"


def record(
    sent: list[SentMessage],
    clock: Clock,
    calendar_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    how: str,
) -> None:
    """Append the mail a change of one event from ``before`` to ``after`` sends (``None``: it
    did not exist / was deleted)."""
    if how == "none":
        return
    old = _guests(before, calendar_id)
    new = _guests(after, calendar_id)
    messages = [("invitation", g) for g in sorted(new - old)]
    messages += [("cancellation", g) for g in sorted(old - new)]
    if before is not None and after is not None and _schedule(before) != _schedule(after):
        messages += [("update", g) for g in sorted(old & new)]
    if how == "externalOnly":
        domain = calendar_id.rpartition("@")[2].lower()
        messages = [(k, g) for k, g in messages if g.rpartition("@")[2] != domain]
    source = after or before or {}
    subject = str(source.get("summary") or "")
    now = clock.now_dt().isoformat()
    for kind, guest in messages:
        sent.append(SentMessage(kind, guest, subject, calendar_id, str(source.get("id")), how, now))


def _guests(resource: dict[str, Any] | None, calendar_id: str) -> set[str]:
    if resource is None or resource.get("status") == "cancelled":
        return set()
    found = set()
    for item in resource.get("attendees") or []:
        if not isinstance(item, dict) or item.get("self") or item.get("organizer"):
            continue
        email = str(item.get("email") or "").strip().lower()
        if email and email != calendar_id.lower():
            found.add(email)
    return found


def _schedule(resource: dict[str, Any]) -> tuple[Any, ...]:
    return (resource.get("start"), resource.get("end"), resource.get("recurrence"))
