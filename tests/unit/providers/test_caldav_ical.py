"""The CalDAV codec: canonical event -> iCalendar -> canonical event keeps the fingerprint and
the tag (hypothesis), for timed and all-day events, zones, rules, EXDATEs and overrides; what
other clients write (Windows TZIDs, DURATION, cancelled overrides, floating times) reads as
it means; the UID is derived from (connection, entry)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent, Override
from casecal.domain.recurrence import Recurrence
from casecal.domain.tags import Tag
from casecal.providers.caldav.ical import (
    NotAnEvent,
    caldav_uid,
    from_ical,
    resource_name,
    tag_of,
    to_ical,
)

ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"]
text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40
)
multiline = st.lists(text, max_size=3).map("\n".join)
tags = st.builds(
    Tag,
    entry_id=st.uuids(),
    kind=st.sampled_from(list(EntryKind)),
    connection_id=st.uuids(),
)
emails = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|org|test)", fullmatch=True)
attendees = st.builds(
    Attendee,
    email=emails,
    name=st.text(st.characters(codec="ascii", categories=("L", "Zs")), max_size=12),
    response=st.sampled_from(["needsAction", "accepted", "declined", "tentative"]),
)
RULES = [
    "FREQ=DAILY;COUNT=5",
    "FREQ=WEEKLY;BYDAY=MO,WE",
    "FREQ=WEEKLY;INTERVAL=2;COUNT=6",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=YEARLY;COUNT=3",
]


@st.composite
def events(draw: st.DrawFn) -> CanonicalEvent:
    tz = draw(st.sampled_from(ZONES))
    all_day = draw(st.booleans())
    day = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
    if all_day:
        start: date | datetime = day
        end: date | datetime = day + timedelta(days=draw(st.integers(1, 3)))
        step = timedelta(days=1)
    else:
        minute = draw(st.integers(0, 24 * 4 - 1)) * 15
        local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
        start = (local + timedelta(minutes=minute)).astimezone(ZoneInfo(tz))
        end = start + timedelta(minutes=draw(st.integers(0, 8)) * 30)
        step = timedelta(days=1)
    recurrence = None
    overrides: tuple[Override, ...] = ()
    if draw(st.booleans()):
        rule = draw(st.sampled_from(RULES))
        if rule.startswith("FREQ=DAILY"):
            exdates = tuple(start + step * n for n in draw(st.sets(st.integers(1, 4), max_size=2)))
            moved = draw(st.sets(st.integers(1, 4), max_size=2)) - {
                n for n in range(1, 5) if start + step * n in exdates
            }
            overrides = tuple(
                Override(
                    start + step * n,
                    CanonicalEvent(
                        title=draw(text),
                        start=start + step * n + (timedelta(hours=2) if not all_day else step),
                        end=end + step * n + (timedelta(hours=2) if not all_day else step),
                        tz=tz,
                        location=draw(text),
                    ),
                )
                for n in sorted(moved)
            )
        else:
            exdates = ()
        recurrence = Recurrence(rrules=(rule,), exdates=exdates)
    return CanonicalEvent(
        title=draw(text),
        start=start,
        end=end,
        tz=tz,
        description=draw(multiline),
        location=draw(text),
        recurrence=recurrence,
        overrides=overrides,
        reminders=tuple(draw(st.sets(st.integers(0, 40320), max_size=3))),
        attendees=tuple(draw(st.lists(attendees, max_size=3))),
        private=draw(st.booleans()),
        busy=draw(st.booleans()),
        categories=tuple(draw(st.lists(text.filter(str.strip), max_size=3))),
    )


@settings(max_examples=150, deadline=None)
@given(event=events(), tag=st.one_of(st.none(), tags))
def test_round_trip_keeps_the_fingerprint_and_the_tag(
    event: CanonicalEvent, tag: Tag | None
) -> None:
    uid = caldav_uid(tag) if tag else "someone-else@example.com"
    parsed = from_ical(to_ical(event, tag, uid), default_tz=event.tz)
    assert parsed.uid == uid
    assert parsed.tag == tag
    assert parsed.event.fingerprint() == event.fingerprint()
    assert parsed.event.all_day == event.all_day


@settings(max_examples=60, deadline=None)
@given(event=events(), tag=tags)
def test_writing_twice_the_same_event_gives_the_same_resource(
    event: CanonicalEvent, tag: Tag
) -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    first = to_ical(event, tag, caldav_uid(tag), now=now)
    assert first == to_ical(event, tag, caldav_uid(tag), now=now)
    assert tag_of(first) == tag


def test_uid_is_derived_from_connection_and_entry() -> None:
    entry, conn = uuid.uuid4(), uuid.uuid4()
    a = Tag(entry, EntryKind.COURT_DATE, conn) if hasattr(EntryKind, "COURT_DATE") else None
    tag = a or Tag(entry, next(iter(EntryKind)), conn)
    again = Tag(entry, tag.kind, conn)
    assert caldav_uid(tag) == caldav_uid(again)
    assert caldav_uid(tag) != caldav_uid(Tag(uuid.uuid4(), tag.kind, conn))
    assert caldav_uid(tag) != caldav_uid(Tag(entry, tag.kind, uuid.uuid4()))
    assert resource_name(tag) == caldav_uid(tag) + ".ics"


def test_timed_event_is_written_with_tzid_and_its_vtimezone() -> None:
    ny = ZoneInfo("America/New_York")
    event = CanonicalEvent(
        title="Hearing",
        start=datetime(2026, 12, 1, 9, tzinfo=ny),
        end=datetime(2026, 12, 1, 10, tzinfo=ny),
        tz="America/New_York",
        recurrence=Recurrence(
            rrules=("FREQ=WEEKLY;COUNT=4",), exdates=(datetime(2026, 12, 8, 9, tzinfo=ny),)
        ),
    )
    body = to_ical(event, None, "u1").decode()
    assert "BEGIN:VTIMEZONE\r\nTZID:America/New_York" in body
    assert "DTSTART;TZID=America/New_York:20261201T090000" in body
    assert "EXDATE;TZID=America/New_York:20261208T090000" in body
    assert "RRULE:FREQ=WEEKLY;COUNT=4" in body


def test_all_day_is_a_date_with_an_exclusive_end() -> None:
    event = CanonicalEvent(
        title="Filing deadline", start=date(2026, 12, 1), end=date(2026, 12, 2), tz="UTC"
    )
    body = to_ical(event, None, "u2").decode()
    assert "DTSTART;VALUE=DATE:20261201" in body
    assert "DTEND;VALUE=DATE:20261202" in body
    assert from_ical(body).event.start == date(2026, 12, 1)


def test_attendees_are_stored_without_asking_the_server_to_invite() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    event = CanonicalEvent(
        title="Interview",
        start=start,
        end=start + timedelta(hours=1),
        tz="UTC",
        attendees=(Attendee("ana@client.example", "Ana", "accepted"),),
    )
    body = to_ical(event, None, "u3").decode().replace("\r\n ", "")
    assert "SCHEDULE-AGENT=CLIENT" in body
    assert "mailto:ana@client.example" in body


FOREIGN = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Other//Client//EN
BEGIN:VEVENT
UID:abc@other
DTSTAMP:20261201T000000Z
DTSTART;TZID=W. Europe Standard Time:20261201T090000
DURATION:PT45M
SUMMARY:Call with counsel
RRULE:FREQ=DAILY;COUNT=3
END:VEVENT
BEGIN:VEVENT
UID:abc@other
DTSTAMP:20261201T000000Z
RECURRENCE-ID;TZID=W. Europe Standard Time:20261202T090000
DTSTART;TZID=W. Europe Standard Time:20261202T090000
DURATION:PT45M
STATUS:CANCELLED
SUMMARY:Call with counsel
END:VEVENT
BEGIN:VEVENT
UID:abc@other
DTSTAMP:20261201T000000Z
RECURRENCE-ID;TZID=W. Europe Standard Time:20261203T090000
DTSTART;TZID=W. Europe Standard Time:20261203T110000
DURATION:PT45M
SUMMARY:Call with counsel (moved)
END:VEVENT
END:VCALENDAR
"""


def test_another_clients_series_reads_as_it_means() -> None:
    parsed = from_ical(FOREIGN)
    event = parsed.event
    assert parsed.tag is None
    assert event.tz == "Europe/Berlin"
    assert event.end - event.start == timedelta(minutes=45)  # type: ignore[operator]
    berlin = ZoneInfo("Europe/Berlin")
    assert event.cancelled == (datetime(2026, 12, 2, 9, tzinfo=berlin),)
    (moved,) = event.overrides
    assert moved.original_start == datetime(2026, 12, 3, 9, tzinfo=berlin)
    assert moved.event.title == "Call with counsel (moved)"
    assert moved.event.start == datetime(2026, 12, 3, 11, tzinfo=berlin)


def test_floating_times_take_the_calendars_zone() -> None:
    body = FOREIGN.replace(";TZID=W. Europe Standard Time", "")
    event = from_ical(body, default_tz="America/Chicago").event
    assert event.start == datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("America/Chicago"))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no VEVENT"),
        (FOREIGN.replace("RRULE:FREQ=DAILY;COUNT=3\n", ""), "does not repeat"),
        ("\n".join(FOREIGN.split("\n")[5:11]).join(["BEGIN:VCALENDAR\n", "\nEND:VCALENDAR\n"]), ""),
        ("not ical at all", ""),
    ],
)
def test_what_the_canonical_event_cannot_hold_is_refused(body: str, why: str) -> None:
    with pytest.raises((NotAnEvent, ValueError)) as caught:
        from_ical(body)
    assert why in str(caught.value)
