"""An entry as its page shows it, without I/O: a title, the day it falls on and labelled facts,
times in the viewer's zone (never a raw ISO string)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from casecal.domain.entries import EntryKind
from casecal.store.tables import Appointment, CourtDate, Interview, StepReminder
from casecal.web.ui.templating import local_time
from casecal.web.ui.views import KIND_LABELS

DAY = "%a %-d %b %Y"
INSTANT = "%a %-d %b %Y, %H:%M %Z"
FREQUENCIES = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def title_of(entry: Any) -> str:
    if isinstance(entry, Appointment):
        return entry.title
    if isinstance(entry, CourtDate):
        return entry.hearing_type
    if isinstance(entry, Interview):
        return entry.interview_type
    return str(entry.step_name)


def day_of(entry: Any, zone: str) -> date:
    """The day the calendar shows the entry on (its first day), in the viewer's zone."""
    if isinstance(entry, StepReminder):
        return entry.reminder_date or entry.due_date
    if isinstance(entry, Appointment) and entry.all_day and entry.start_date is not None:
        return entry.start_date
    return date.fromisoformat(local_time(entry.start_at, zone, "%Y-%m-%d"))


def repeats_label(rule: str) -> str:
    """``FREQ=WEEKLY;COUNT=4`` as "Every week, 4 times"; other rules as they are written."""
    parts = dict(p.partition("=")[::2] for p in rule.split(";"))
    unit = FREQUENCIES.get(parts.get("FREQ", ""))
    if unit is None or set(parts) - {"FREQ", "COUNT"}:
        return f"Custom rule: {rule}"
    return f"Every {unit}" + (f", {parts['COUNT']} times" if "COUNT" in parts else "")


def attendees_label(attendees: Any) -> str:
    """Stored attendees (``{"email", "name"}`` each) one a line, as "Name <email>"."""
    lines = []
    for person in attendees or []:
        if isinstance(person, Mapping) and person.get("email"):
            name = str(person.get("name") or "").strip()
            lines.append(f"{name} <{person['email']}>" if name else str(person["email"]))
    return "\n".join(lines)


def _when(entry: Any, zone: str) -> str:
    if isinstance(entry, StepReminder):
        return f"{(entry.reminder_date or entry.due_date):{DAY}} (all day)"
    if isinstance(entry, Appointment) and entry.all_day and entry.start_date is not None:
        last = (entry.end_date or entry.start_date + timedelta(days=1)) - timedelta(days=1)
        span = f" to {last:{DAY}}" if last > entry.start_date else ""
        return f"{entry.start_date:{DAY}}{span} (all day)"
    start: datetime = entry.start_at
    if isinstance(entry, Appointment):
        end = entry.end_at or start
    else:
        end = start + timedelta(minutes=entry.duration_minutes)
    same_day = local_time(start, zone, "%Y%m%d") == local_time(end, zone, "%Y%m%d")
    return f"{local_time(start, zone, INSTANT)} to " + local_time(
        end, zone, "%H:%M %Z" if same_day else INSTANT
    )


def entry_facts(entry: Any, zone: str, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """Labelled facts about ``entry``; ``names`` maps user and case ids to readable names."""
    kind = EntryKind(entry.kind)
    facts = [("Kind", KIND_LABELS[kind]), ("When", _when(entry, zone))]
    if isinstance(entry, Appointment):
        if entry.rrule:
            facts.append(("Repeats", repeats_label(entry.rrule)))
        facts.append(("Calendar of", names.get(str(entry.owner_id), "someone else")))
        if entry.origin == "remote":
            facts.append(("Made in", "the external calendar (imported)"))
        facts += [("Location", entry.location), ("Attendees", attendees_label(entry.attendees)),
                  ("Private", "Yes" if entry.private else "")]  # fmt: skip
    if getattr(entry, "case_id", None) is not None:
        facts.append(("Case", names.get(str(entry.case_id), "")))
    if isinstance(entry, StepReminder):
        facts.append(("Due", f"{entry.due_date:{DAY}}"))
    if isinstance(entry, CourtDate):
        facts += [("Court", entry.court_name), ("Court address", entry.court_address),
                  ("Judge", entry.judge), ("Courtroom", entry.courtroom)]  # fmt: skip
    if isinstance(entry, Interview):
        facts += [("Office", entry.office_name), ("Office address", entry.office_address),
                  ("Officer", entry.officer), ("Documents", entry.documents)]  # fmt: skip
    if not isinstance(entry, Appointment):
        who = names.get(str(entry.assigned_user_id), "") if entry.assigned_user_id else ""
        facts.append(("Assigned to", who or "The case's case managers"))
    facts.append(("Notes", entry.notes))
    return [(label, value) for label, value in facts if value]
