"""Host entry -> canonical event per MAPPINGS.md, and remote event -> appointment fields."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.entries import Appointment, Case, CourtDate, Interview, Person, StepReminder
from casecal.domain.event import Attendee, CanonicalEvent, Unrepresentable
from casecal.domain.mapping import (
    PRIVATE_TITLE,
    STEP_REMINDER_MINUTES,
    appointment_fields,
    event_for_entry,
    render_line,
    strip_footer,
)
from casecal.domain.recurrence import Recurrence

NY = ZoneInfo("America/New_York")
CONN = uuid.uuid4()
CASE = Case(uuid.uuid4(), "2024-017", "Maria Lopez", a_number="A123456789")
BASE = "https://casecal.example/"


def court(**changes: object) -> CourtDate:
    values: dict[str, object] = {
        "id": uuid.UUID(int=7),
        "case_id": CASE.id,
        "hearing_type": "Master Calendar",
        "start_at": datetime(2024, 11, 3, 0, 30, tzinfo=NY),
        "time_zone": "America/New_York",
        "court_name": "NYC Immigration Court",
        "court_address": "26 Federal Plaza",
        "judge": "Hon. Smith",
        "notes": "Bring originals",
    }
    return CourtDate(**{**values, **changes})  # type: ignore[arg-type]


def test_render_line_drops_lines_with_missing_fields() -> None:
    assert render_line("Judge: {judge}", {"judge": "Smith"}) == "Judge: Smith"
    assert render_line("Judge: {judge}", {"judge": ""}) is None
    assert render_line("Judge: {judge}", {"judge": None}) is None
    assert render_line("Judge: {judge}", {}) is None


def test_court_date() -> None:
    event = event_for_entry(court(), case=CASE, connection_id=CONN, base_url=BASE)
    assert event.title == "Court: Master Calendar - Maria Lopez (2024-017)"
    assert event.location == "NYC Immigration Court, 26 Federal Plaza"
    assert event.description == (
        "Judge: Hon. Smith\nA-Number: A123456789\nBring originals\n\n"
        "Case: 2024-017 - Maria Lopez\n"
        f"CaseCal: https://casecal.example/entries/court_date/{uuid.UUID(int=7)}"
    )
    assert "None" not in event.description
    assert "Courtroom" not in event.description
    assert event.reminders == (1440, 120)
    assert event.busy
    assert event.categories == ("Court Date",)
    # two hours of elapsed time across the DST change (clocks fall back at 02:00)
    assert isinstance(event.end, datetime)
    assert isinstance(event.start, datetime)
    assert event.end.astimezone(UTC) - event.start.astimezone(UTC) == timedelta(hours=2)
    assert event.tag is not None
    assert event.tag.connection_id == CONN


def test_court_date_without_case_number_or_location() -> None:
    bare = Case(uuid.uuid4(), "", "Maria Lopez")
    event = event_for_entry(
        court(court_name="", court_address="", judge="", notes=""),
        case=bare, connection_id=CONN, base_url=BASE,
    )  # fmt: skip
    assert event.title == "Court: Master Calendar - Maria Lopez"
    assert event.location == ""
    assert event.description.startswith("CaseCal: https://casecal.example/entries/court_date/")


def test_interview_defaults() -> None:
    interview = Interview(
        id=uuid.uuid4(), case_id=CASE.id, interview_type="Asylum",
        start_at=datetime(2024, 5, 1, 9, tzinfo=NY), time_zone="America/New_York",
        office_name="Newark Asylum Office", officer="J. Doe", documents="Passport",
    )  # fmt: skip
    event = event_for_entry(interview, case=CASE, connection_id=CONN, base_url=BASE)
    assert event.title == "Interview: Asylum - Maria Lopez (2024-017)"
    assert event.description.splitlines()[:2] == ["Officer: J. Doe", "Documents to bring: Passport"]
    assert event.end == datetime(2024, 5, 1, 10, tzinfo=NY)
    assert event.reminders == (1440, 60)
    assert event.categories == ("Interview",)


def test_step_reminder_is_a_free_all_day_event() -> None:
    step = StepReminder(
        id=uuid.uuid4(), case_id=CASE.id, step_name="File I-485",
        due_date=date(2024, 6, 10), reminder_date=date(2024, 6, 3),
    )  # fmt: skip
    event = event_for_entry(
        step, case=CASE, connection_id=CONN, base_url=BASE, default_tz="America/New_York"
    )
    assert (event.start, event.end) == (date(2024, 6, 3), date(2024, 6, 4))
    assert event.title == "Reminder: File I-485 - Maria Lopez (2024-017)"
    assert event.description.startswith("Due: 2024-06-10\n\n")
    assert not event.busy
    assert event.reminders == (STEP_REMINDER_MINUTES,)
    assert event.categories == ("Step Reminder",)
    assert event.tz == "America/New_York"
    due_day = event_for_entry(
        StepReminder(id=uuid.uuid4(), case_id=CASE.id, step_name="x", due_date=date(2024, 6, 10)),
        case=CASE, connection_id=CONN, base_url=BASE,
    )  # fmt: skip
    assert due_day.start == date(2024, 6, 10)


def appointment(**changes: object) -> Appointment:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "owner_id": uuid.uuid4(),
        "title": "Client call",
        "time_zone": "Europe/London",
        "start_at": datetime(2024, 3, 31, 0, 30, tzinfo=UTC),
        "end_at": datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
        "notes": "Discuss RFE",
        "attendees": (Person("ana@example.com", "Ana"),),
        "reminder_minutes": 10,
        "show_as": "free",
        "rrule": "FREQ=WEEKLY",
        "exdates": (date(2024, 4, 7),),
    }
    return Appointment(**{**values, **changes})  # type: ignore[arg-type]


def test_appointment_with_and_without_case() -> None:
    with_case = event_for_entry(
        appointment(case_id=CASE.id), case=CASE, connection_id=CONN, base_url=BASE
    )
    assert with_case.categories == ("CaseCal",)
    assert "Case: 2024-017" in with_case.description
    alone = event_for_entry(appointment(), case=None, connection_id=CONN, base_url=BASE)
    assert alone.categories == ()
    assert alone.description.startswith("Discuss RFE\n\nCaseCal: ")
    assert alone.reminders == (10,)
    assert not alone.busy
    assert alone.recurrence is not None
    assert alone.recurrence.rrules == ("FREQ=WEEKLY;BYDAY=SU",)
    assert alone.attendees == (Attendee("ana@example.com", "Ana"),)


def test_all_day_appointment_keeps_dates() -> None:
    entry = appointment(all_day=True, start_date=date(2024, 3, 31), end_date=None, rrule=None)
    event = event_for_entry(entry, case=None, connection_id=CONN, base_url=BASE)
    assert (event.start, event.end) == (date(2024, 3, 31), date(2024, 4, 1))


def test_round_trip_through_appointment_fields_strips_the_footer() -> None:
    event = event_for_entry(appointment(), case=CASE, connection_id=CONN, base_url=BASE)
    fields = appointment_fields(event)
    assert fields.notes == "Discuss RFE"
    assert strip_footer(event.description) == "Discuss RFE"
    assert strip_footer("Just notes") == "Just notes"
    assert fields.rrule == "FREQ=WEEKLY;BYDAY=SU"
    assert fields.show_as == "free"
    assert fields.start_at == event.start
    assert fields.start_date is None


def test_private_remote_event_becomes_private_appointment_unless_opted_in() -> None:
    remote = CanonicalEvent(
        "Doctor", datetime(2024, 5, 1, 9, tzinfo=NY), datetime(2024, 5, 1, 10, tzinfo=NY),
        "America/New_York", description="Dr. Who", location="Clinic", private=True,
        attendees=(Attendee("dr@example.com"),), reminders=(30, 5),
    )  # fmt: skip
    hidden = appointment_fields(remote)
    assert (hidden.title, hidden.notes, hidden.location, hidden.attendees) == (
        PRIVATE_TITLE,
        "",
        "",
        (),
    )
    assert hidden.start_at == remote.start
    assert hidden.private
    assert hidden.reminder_minutes == 30
    full = appointment_fields(remote, full_details=True)
    assert (full.title, full.notes, full.location) == ("Doctor", "Dr. Who", "Clinic")


def test_remote_recurrence_the_host_cannot_hold_raises() -> None:
    remote = CanonicalEvent(
        "x", date(2024, 5, 1), date(2024, 5, 2), "UTC",
        recurrence=Recurrence(rrules=("FREQ=DAILY",), rdates=(date(2024, 6, 1),)),
    )  # fmt: skip
    with pytest.raises(Unrepresentable):
        appointment_fields(remote)
