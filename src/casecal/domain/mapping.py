"""Host entry -> canonical event per MAPPINGS.md, and a remote event -> appointment fields.

The per-kind rules are data (``RULES``): title templates, location parts, description lines,
durations, reminders, busy/free and categories. A line whose field is missing is dropped whole.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from string import Formatter

from casecal.domain.entries import (
    Appointment,
    Case,
    EntryKind,
    HostEntry,
    OccurrenceChange,
    Person,
    StepReminder,
)
from casecal.domain.event import Attendee, CanonicalEvent, Override, Unrepresentable
from casecal.domain.recurrence import EventTime, Recurrence, time_key
from casecal.domain.tags import Tag
from casecal.domain.timezones import zone

PRIVATE_TITLE = "Private appointment"
STEP_REMINDER_MINUTES = 15 * 60
"""An all-day event's reminder counts back from midnight: 15 h = 9:00 on the day before.
(9:00 on the day itself would be a negative offset, which neither provider accepts.)"""
FOOTER_CASE = "Case: {case_number} - {beneficiary}"
LINK = "{base_url}/entries/{kind}/{id}"
FOOTER_LINK = "CaseCal: {link}"
_FOOTER_RE = re.compile(
    r"(?:\A|\n\n)(?:Case: [^\n]*\n)?CaseCal: \S+/entries/\w+/[0-9a-fA-F-]+\s*\Z"
)


@dataclass(frozen=True)
class KindRules:
    """How one kind of host entry looks on a remote calendar."""

    titles: tuple[str, ...]
    """Title templates, most detailed first: the first whose fields are all present wins."""
    location: tuple[str, ...]
    """Fields joined with ", ", blanks skipped."""
    lines: tuple[str, ...]
    """Description line templates; a line with a missing field is dropped."""
    duration: timedelta | None
    """Default length of a timed entry; ``None`` for an all-day entry of one day."""
    reminders: tuple[int, ...]
    busy: bool
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Presentation:
    """How a court date, interview or step reminder shows on the remote calendar: the part of
    its look a firm, team or user may set (``settings_catalog``). Appointments carry their own
    reminder, busy/free and privacy and take none."""

    reminders: tuple[int, ...]
    busy: bool
    private: bool = False


RULES: Mapping[EntryKind, KindRules] = {
    EntryKind.APPOINTMENT: KindRules(
        titles=("{title}",),
        location=("location",),
        lines=("{notes}",),
        duration=timedelta(hours=1),
        reminders=(),
        busy=True,
        categories=("CaseCal",),  # only when the appointment belongs to a case
    ),
    EntryKind.COURT_DATE: KindRules(
        titles=(
            "Court: {hearing_type} - {beneficiary} ({case_number})",
            "Court: {hearing_type} - {beneficiary}",
            "Court: {hearing_type}",
        ),
        location=("court_name", "court_address"),
        lines=("Judge: {judge}", "Courtroom: {courtroom}", "A-Number: {a_number}", "{notes}"),
        duration=timedelta(hours=2),
        reminders=(24 * 60, 2 * 60),
        busy=True,
        categories=("Court Date",),
    ),
    EntryKind.INTERVIEW: KindRules(
        titles=(
            "Interview: {interview_type} - {beneficiary} ({case_number})",
            "Interview: {interview_type} - {beneficiary}",
            "Interview: {interview_type}",
        ),
        location=("office_name", "office_address"),
        lines=("Officer: {officer}", "Documents to bring: {documents}", "{notes}"),
        duration=timedelta(hours=1),
        reminders=(24 * 60, 60),
        busy=True,
        categories=("Interview",),
    ),
    EntryKind.STEP_REMINDER: KindRules(
        titles=(
            "Reminder: {step} - {beneficiary} ({case_number})",
            "Reminder: {step} - {beneficiary}",
            "Reminder: {step}",
        ),
        location=(),
        lines=("{notes}", "Due: {due_date}"),
        duration=None,
        reminders=(STEP_REMINDER_MINUTES,),
        busy=False,
        categories=("Step Reminder",),
    ),
}


def default_presentation(kind: EntryKind) -> Presentation:
    """The look of ``kind`` when nothing is set: its ``RULES``, not private."""
    return Presentation(reminders=RULES[kind].reminders, busy=RULES[kind].busy)


def render_line(template: str, values: Mapping[str, object]) -> str | None:
    """``template`` filled from ``values``, or ``None`` when a field it uses is missing/blank."""
    names = [name for _, name, _, _ in Formatter().parse(template) if name]
    filled = {n: str(values.get(n) or "").strip() for n in names}
    if any(not v for v in filled.values()):
        return None
    return template.format_map(filled)


def entry_link(base_url: str, kind: EntryKind, entry_id: uuid.UUID) -> str:
    """The link back to an entry in CaseCal."""
    return LINK.format(base_url=base_url.rstrip("/"), kind=kind.value, id=entry_id)


def _values(entry: HostEntry, case: Case | None) -> dict[str, object]:
    values: dict[str, object] = dict(vars(entry))
    values["step"] = values.get("step_name")
    if isinstance(entry, StepReminder):
        values["due_date"] = entry.due_date.isoformat()
    if case is not None:
        values.update(case_number=case.number, beneficiary=case.beneficiary)
        values["a_number"] = case.a_number
    return values


def describe(entry: HostEntry, case: Case | None, *, base_url: str) -> str:
    """The description: the kind's lines, then a footer with the case and a link back."""
    rules, values = RULES[entry.kind], _values(entry, case)
    body = [line for t in rules.lines if (line := render_line(t, values)) is not None]
    footer = [] if case is None else [render_line(FOOTER_CASE, values)]
    link = FOOTER_LINK.format(link=entry_link(base_url, entry.kind, entry.id))
    footer_text = "\n".join([f for f in footer if f] + [link])
    return "\n\n".join(part for part in ("\n".join(body), footer_text) if part)


def strip_footer(description: str) -> str:
    """The description without CaseCal's footer (so it does not grow on every round trip)."""
    return _FOOTER_RE.sub("", description.replace("\r\n", "\n")).rstrip()


def event_for_entry(
    entry: HostEntry,
    *,
    case: Case | None,
    connection_id: uuid.UUID,
    base_url: str,
    default_tz: str = "UTC",
    presentation: Presentation | None = None,
) -> CanonicalEvent:
    """The canonical event of a host entry as pushed through ``connection_id``.

    ``default_tz`` is the zone of entries that carry none (step reminders): the case
    manager's or the firm's, so that all-day events sit on the right day in Outlook.
    ``presentation`` is the reminders, busy/free and privacy the connection's user has in
    force for the entry's kind (``default_presentation`` when None); an appointment keeps
    its own. It is part of the event, so a changed setting changes the fingerprint.
    """
    rules, values = RULES[entry.kind], _values(entry, case)
    title = next((t for tpl in rules.titles if (t := render_line(tpl, values))), "")
    location = ", ".join(str(values.get(f) or "").strip() for f in rules.location)
    location = ", ".join(p for p in location.split(", ") if p)
    has_categories = case is not None or entry.kind != EntryKind.APPOINTMENT
    categories = rules.categories if has_categories else ()
    start, end, tz = _span(entry, rules, default_tz)
    look = presentation or default_presentation(entry.kind)
    reminders, busy, private = look.reminders, look.busy, look.private
    attendees: tuple[Attendee, ...] = ()
    recurrence = None
    if isinstance(entry, Appointment):
        reminders = () if entry.reminder_minutes is None else (entry.reminder_minutes,)
        busy, private = entry.show_as != "free", entry.private
        attendees = tuple(Attendee(p.email, p.name) for p in entry.attendees)
        if entry.rrule:
            recurrence = Recurrence(rrules=(entry.rrule,), exdates=entry.exdates)
    series = CanonicalEvent(
        title=title,
        description=describe(entry, case, base_url=base_url),
        location=location,
        start=start,
        end=end,
        tz=tz,
        recurrence=recurrence,
        reminders=reminders,
        attendees=attendees,
        private=private,
        busy=busy,
        categories=categories,
        tag=Tag(entry_id=entry.id, kind=entry.kind, connection_id=connection_id),
    )
    if not isinstance(entry, Appointment) or recurrence is None or not entry.overrides:
        return series
    cancelled = {time_key(x) for x in entry.exdates}
    changed = tuple(
        Override(change.original_start, _occurrence_event(series, entry, change, case, base_url))
        for change in entry.overrides
        if time_key(change.original_start) not in cancelled  # a cancellation wins
    )
    return replace(series, overrides=changed)


def _occurrence_event(
    series: CanonicalEvent,
    entry: Appointment,
    change: OccurrenceChange,
    case: Case | None,
    base_url: str,
) -> CanonicalEvent:
    """One changed occurrence as its own event: the change's own fields over the series'."""
    return replace(
        series,
        title=change.title,
        description=describe(replace(entry, notes=change.notes), case, base_url=base_url),
        location=change.location,
        start=change.start,
        end=change.end,
        recurrence=None,
        overrides=(),
        tag=None,
    )


def _span(entry: HostEntry, rules: KindRules, default_tz: str) -> tuple[EventTime, EventTime, str]:
    if isinstance(entry, StepReminder):
        day = entry.reminder_date or entry.due_date
        return day, day + timedelta(days=1), default_tz
    if isinstance(entry, Appointment):
        if entry.all_day:
            first = entry.start_date or _date_of(entry.start_at)
            last = entry.end_date or first + timedelta(days=1)
            return first, last, entry.time_zone
        if entry.start_at is None:
            raise Unrepresentable("a timed appointment needs a start", field="start_at")
        end_at = entry.end_at or _after(entry.start_at, rules.duration or timedelta(hours=1))
        return entry.start_at, end_at, entry.time_zone
    length = timedelta(minutes=entry.duration_minutes) if entry.duration_minutes else None
    end = _after(entry.start_at, length or rules.duration or timedelta())
    return entry.start_at, end, entry.time_zone


def _after(start: datetime, length: timedelta) -> datetime:
    """``start`` plus elapsed time (not wall-clock time, which jumps at DST changes)."""
    return (start.astimezone(UTC) + length).astimezone(start.tzinfo)


def _date_of(value: datetime | None) -> date:
    if value is None:
        raise Unrepresentable("an all-day appointment needs a start date", field="start_date")
    return value.date()


@dataclass(frozen=True)
class AppointmentFields:
    """Appointment values taken from a remote event (the remote -> host direction)."""

    title: str
    notes: str
    location: str
    all_day: bool
    start_at: datetime | None
    end_at: datetime | None
    start_date: date | None
    end_date: date | None
    time_zone: str
    attendees: tuple[Person, ...]
    reminder_minutes: int | None
    private: bool
    show_as: str
    rrule: str | None
    exdates: tuple[EventTime, ...]
    overrides: tuple[OccurrenceChange, ...]
    """Occurrences of the series changed on their own."""


def appointment_fields(event: CanonicalEvent, *, full_details: bool = False) -> AppointmentFields:
    """The appointment a remote event becomes; a private one is "Private appointment" with
    times only unless ``full_details`` (the case manager's opt-in)."""
    rec = event.recurrence
    if rec is not None and (len(rec.rrules) != 1 or rec.exrules or rec.rdates):
        raise Unrepresentable(
            "a CaseCal appointment holds one RRULE and its EXDATEs", field="recurrence"
        )
    hidden = event.private and not full_details
    timed = not event.all_day
    return AppointmentFields(
        title=PRIVATE_TITLE if hidden else event.title,
        notes="" if hidden else strip_footer(event.description),
        location="" if hidden else event.location,
        all_day=event.all_day,
        start_at=event.start if isinstance(event.start, datetime) and timed else None,
        end_at=event.end if isinstance(event.end, datetime) and timed else None,
        start_date=None if timed else event.start,
        end_date=None if timed else event.end,
        time_zone=event.tz,
        attendees=() if hidden else tuple(Person(a.email, a.name) for a in event.attendees),
        reminder_minutes=max(event.reminders) if event.reminders else None,
        private=event.private,
        show_as="busy" if event.busy else "free",
        rrule=rec.rrules[0] if rec else None,
        exdates=rec.exdates if rec else (),
        overrides=tuple(occurrence_change(o, tz=event.tz, hidden=hidden) for o in event.overrides),
    )


def occurrence_change(override: Override, *, tz: str, hidden: bool = False) -> OccurrenceChange:
    """What the host keeps of a remote series' changed occurrence: its own title, times, place
    and notes, times in the series' zone ``tz``. A ``hidden`` (private, not opted in) series
    keeps the times only."""
    single = override.event

    def local(value: EventTime) -> EventTime:
        return value.astimezone(zone(tz)) if isinstance(value, datetime) else value

    return OccurrenceChange(
        original_start=local(override.original_start),
        title=PRIVATE_TITLE if hidden else single.title,
        start=local(single.start),
        end=local(single.end),
        location="" if hidden else single.location,
        notes="" if hidden else strip_footer(single.description),
    )
