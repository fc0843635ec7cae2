"""Who sees what of an appointment inside a firm. Pure: one rule for every route and page.

- The owner sees their appointment in full, always.
- An appointment imported from the owner's own calendar (origin ``remote``) and not filed
  under a case is the owner's alone: firm admins see it as a busy block (its time, nothing
  else), everyone else does not see it at all, until the owner shares it with the firm.
- A private appointment (``private``) shows others only a busy block, shared or not.
- Everything else is the firm's calendar: everyone in the firm sees it.

Court dates, interviews and step reminders belong to a case and are not judged here.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class View(enum.IntEnum):
    """Ordered: more is more."""

    HIDDEN = 0
    BUSY = 1
    FULL = 2


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: uuid.UUID
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts of one appointment the rule reads."""

    owner_id: uuid.UUID
    imported: bool
    """``origin == "remote"``: brought in from the owner's external calendar."""
    has_case: bool
    private: bool
    shared: bool


def personal(facts: Facts) -> bool:
    """Imported, without a case, not shared: the owner's own business."""
    return facts.imported and not facts.has_case and not facts.shared


def view_of(viewer: Viewer, facts: Facts) -> View:
    if viewer.user_id == facts.owner_id:
        return View.FULL
    if personal(facts):
        return View.BUSY if viewer.is_admin else View.HIDDEN
    if facts.private:
        return View.BUSY
    return View.FULL


BUSY_TITLE = "Busy"
