"""Google Calendar v3 JSON: times, all-day dates, recurrence lines, reminders, tag keys,
instances and tombstones."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.event import CanonicalEvent, Override, Unrepresentable
from casecal.domain.recurrence import Recurrence
from casecal.domain.tags import Tag
from casecal.providers.google.json import (
    MAX_KEY_LENGTH,
    PRIVATE_KEYS,
    from_google,
    google_instance_id,
    google_tag,
    google_tombstone,
    parse_recurrence_lines,
    to_google,
    to_google_override,
)

NY = ZoneInfo("America/New_York")
TAG = Tag(uuid.uuid4(), EntryKind.COURT_DATE, uuid.uuid4())


def test_private_property_keys_fit_googles_limit() -> None:
    assert all(len(key) <= MAX_KEY_LENGTH for key in PRIVATE_KEYS)
    body = to_google(CanonicalEvent("x", date(2024, 1, 1), date(2024, 1, 2), "UTC"), TAG)
    private = body["extendedProperties"]["private"]
    assert all(len(k) <= MAX_KEY_LENGTH and len(v) <= 1024 for k, v in private.items())
    assert google_tag(body) == TAG


def test_all_day_is_dates_with_exclusive_end_never_datetimes() -> None:
    event = CanonicalEvent("Filing", date(2024, 3, 10), date(2024, 3, 11), "Australia/Sydney")
    body = to_google(event)
    assert body["start"] == {"date": "2024-03-10"}
    assert body["end"] == {"date": "2024-03-11"}
    back = from_google(body, default_tz="Pacific/Kiritimati")
    assert back.start == date(2024, 3, 10)
    assert back.end == date(2024, 3, 11)


def test_timed_event_carries_offset_and_zone_across_dst() -> None:
    start = datetime(2024, 3, 10, 1, 30, tzinfo=NY)  # half an hour before clocks go forward
    end = datetime(2024, 3, 10, 8, 30, tzinfo=UTC)  # 04:30 EDT
    body = to_google(CanonicalEvent("x", start, end, "America/New_York"))
    assert body["start"] == {
        "dateTime": "2024-03-10T01:30:00-05:00",
        "timeZone": "America/New_York",
    }
    assert body["end"] == {"dateTime": "2024-03-10T04:30:00-04:00", "timeZone": "America/New_York"}


def test_reading_a_utc_datetime_without_zone_uses_the_calendar_zone() -> None:
    item = {
        "start": {"dateTime": "2024-06-01T13:00:00Z"},
        "end": {"dateTime": "2024-06-01T14:00:00Z"},
    }
    event = from_google(item, default_tz="America/New_York")
    assert event.tz == "America/New_York"
    assert event.start == datetime(2024, 6, 1, 9, tzinfo=NY)


def test_reminders_limits() -> None:
    day = (date(2024, 1, 1), date(2024, 1, 2), "UTC")
    with pytest.raises(Unrepresentable):
        to_google(CanonicalEvent("x", *day, reminders=(1, 2, 3, 4, 5, 6)))
    with pytest.raises(Unrepresentable):
        to_google(CanonicalEvent("x", *day, reminders=(40321,)))
    body = to_google(CanonicalEvent("x", *day, reminders=(40320, 0)))
    assert body["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 40320}, {"method": "popup", "minutes": 0}],
    }
    body["reminders"] = {"useDefault": True}
    assert from_google(body, default_tz="UTC", default_reminders=(30,)).reminders == (30,)


def test_visibility_transparency_and_attendees() -> None:
    item = {
        "start": {"date": "2024-01-01"},
        "end": {"date": "2024-01-02"},
        "visibility": "confidential",
        "transparency": "transparent",
        "attendees": [{"email": "a@x.org", "responseStatus": "weird"}, {"displayName": "no mail"}],
    }
    event = from_google(item, default_tz="UTC")
    assert event.private
    assert not event.busy
    assert [(a.email, a.response) for a in event.attendees] == [("a@x.org", "needsAction")]


def test_recurrence_lines_have_no_dtstart_and_parse_back() -> None:
    start = datetime(2024, 3, 4, 9, tzinfo=NY)
    event = CanonicalEvent(
        "Weekly",
        start,
        datetime(2024, 3, 4, 10, tzinfo=NY),
        "America/New_York",
        recurrence=Recurrence(rrules=("FREQ=WEEKLY",), exdates=(date(2024, 3, 11),)),
    )
    lines = to_google(event)["recurrence"]
    assert lines == ["RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=America/New_York:20240311T090000"]
    assert not any(line.startswith(("DTSTART", "DTEND")) for line in lines)
    parsed = parse_recurrence_lines(
        ["RRULE:FREQ=WEEKLY", "EXDATE:20240311T130000Z,20240318T130000Z"], start, event.tz
    )
    assert parsed is not None
    assert len(parsed.normalised(start).exdates) == 2


def test_repeated_hour_exdate_says_which_pass() -> None:
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC).astimezone(NY)  # 01:30 EST, fold=1
    assert second.fold == 1
    event = CanonicalEvent(
        "Late", second, second.replace(hour=2, minute=0), "America/New_York",
        recurrence=Recurrence(rrules=("FREQ=DAILY",), exdates=(second,)),
    )  # fmt: skip
    assert "EXDATE:20241103T063000Z" in to_google(event)["recurrence"]
    assert from_google(to_google(event), default_tz="UTC").cancelled == (second,)


def test_instances_become_overrides_and_cancelled_ones_exdates() -> None:
    start = datetime(2024, 3, 4, 9, tzinfo=NY)
    master = CanonicalEvent(
        "Weekly", start, datetime(2024, 3, 4, 10, tzinfo=NY), "America/New_York",
        recurrence=Recurrence(rrules=("FREQ=WEEKLY",)),
    )  # fmt: skip
    slot = datetime(2024, 3, 11, 9, tzinfo=NY)
    moved = CanonicalEvent("Moved", slot.replace(hour=11), slot.replace(hour=12), master.tz)
    instance = to_google_override(Override(slot, moved), master_id="abcde", series_tz=master.tz)
    assert instance["recurringEventId"] == "abcde"
    assert instance["originalStartTime"]["timeZone"] == "America/New_York"
    cancelled = {
        "id": google_instance_id("abcde", datetime(2024, 3, 18, 13, tzinfo=UTC)),
        "status": "cancelled",
        "recurringEventId": "abcde",
        "originalStartTime": {"dateTime": "2024-03-18T09:00:00-04:00"},
    }
    assert cancelled["id"] == "abcde_20240318T130000Z"
    back = from_google(to_google(master), default_tz="UTC", instances=(instance, cancelled))
    assert back.cancelled == (datetime(2024, 3, 18, 9, tzinfo=NY),)
    found = back.override_for(slot)
    assert found is not None
    assert found.event.title == "Moved"


def test_tombstones_two_meanings() -> None:
    assert google_tombstone({"id": "abc", "summary": "x"}) is None
    deleted = google_tombstone({"id": "abcde", "status": "cancelled"})
    assert deleted is not None
    assert not deleted.is_cancelled_occurrence
    occurrence = google_tombstone(
        {
            "id": "abcde_20240311",
            "status": "cancelled",
            "recurringEventId": "abcde",
            "originalStartTime": {"date": "2024-03-11"},
        }
    )
    assert occurrence is not None
    assert occurrence.is_cancelled_occurrence
    assert occurrence.original_start == date(2024, 3, 11)
    assert google_instance_id("abcde", date(2024, 3, 11)) == "abcde_20240311"
