"""The host entry kinds and a case, as plain frozen values the sync engine passes into the domain.

Fields follow ``store/tables.py``; datetimes are aware, all-day ends are exclusive dates.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar


class EntryKind(enum.StrEnum):
    """The four kinds of host calendar entry (same values as the store's enum)."""

    APPOINTMENT = "appointment"
    COURT_DATE = "court_date"
    INTERVIEW = "interview"
    STEP_REMINDER = "step_reminder"


@dataclass(frozen=True)
class Person:
    """An attendee of a host appointment."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class OccurrenceChange:
    """One occurrence of a recurring appointment changed on its own (moved, retitled, another
    place or note), keyed by ``original_start``: where the series' rule puts it. What is not
    kept here (reminders, attendees, privacy, busy/free) follows the series."""

    original_start: date | datetime
    title: str
    start: date | datetime
    end: date | datetime
    location: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Case:
    """The case an entry belongs to."""

    id: uuid.UUID
    number: str
    beneficiary: str
    case_type: str = ""
    a_number: str | None = None


@dataclass(frozen=True)
class Appointment:
    """An appointment or activity of one user; timed (``start_at``/``end_at``) or all-day."""

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    time_zone: str
    case_id: uuid.UUID | None = None
    notes: str = ""
    location: str = ""
    all_day: bool = False
    start_at: datetime | None = None
    end_at: datetime | None = None
    start_date: date | None = None
    end_date: date | None = None
    """Exclusive end date of an all-day appointment."""
    attendees: tuple[Person, ...] = ()
    reminder_minutes: int | None = None
    private: bool = False
    show_as: str = "busy"
    rrule: str | None = None
    exdates: tuple[date | datetime, ...] = ()
    overrides: tuple[OccurrenceChange, ...] = ()
    origin: str = "host"
    kind: ClassVar[EntryKind] = EntryKind.APPOINTMENT


@dataclass(frozen=True)
class CourtDate:
    """A hearing on a case (host -> remote only)."""

    id: uuid.UUID
    case_id: uuid.UUID
    hearing_type: str
    start_at: datetime
    time_zone: str
    assigned_user_id: uuid.UUID | None = None
    court_name: str = ""
    court_address: str = ""
    judge: str = ""
    courtroom: str = ""
    duration_minutes: int = 120
    notes: str = ""
    kind: ClassVar[EntryKind] = EntryKind.COURT_DATE


@dataclass(frozen=True)
class Interview:
    """An interview at a USCIS field office, asylum office or consulate (host -> remote only)."""

    id: uuid.UUID
    case_id: uuid.UUID
    interview_type: str
    start_at: datetime
    time_zone: str
    assigned_user_id: uuid.UUID | None = None
    office_name: str = ""
    office_address: str = ""
    officer: str = ""
    documents: str = ""
    duration_minutes: int = 60
    notes: str = ""
    kind: ClassVar[EntryKind] = EntryKind.INTERVIEW


@dataclass(frozen=True)
class StepReminder:
    """A reminder of a case step's due date (host -> remote, where the connection opted in)."""

    id: uuid.UUID
    case_id: uuid.UUID
    step_name: str
    due_date: date
    assigned_user_id: uuid.UUID | None = None
    reminder_date: date | None = None
    """The day the reminder shows; ``None`` means the due date."""
    notes: str = ""
    kind: ClassVar[EntryKind] = EntryKind.STEP_REMINDER


HostEntry = Appointment | CourtDate | Interview | StepReminder
