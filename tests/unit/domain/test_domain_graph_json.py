"""Microsoft Graph JSON: Windows zones, all-day never shifted, DST wall times, the named
extended property tag, HTML bodies, reminders, attendees and exceptions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent
from casecal.domain.tags import Tag
from casecal.domain.timezones import CUSTOM_ZONE, UnknownTimeZone
from casecal.providers.msgraph.json import (
    TAG_EXPAND,
    TAG_NAMESPACE,
    TAG_PROPERTY_ID,
    event_zone,
    from_graph,
    graph_original_start,
    graph_tag,
    tag_filter,
    to_graph,
)

NY = ZoneInfo("America/New_York")
TAG = Tag(uuid.uuid4(), EntryKind.INTERVIEW, uuid.uuid4())


def test_timed_event_is_local_wall_time_with_windows_name() -> None:
    start = datetime(2024, 3, 10, 1, 30, tzinfo=NY)
    end = datetime(2024, 3, 10, 3, 30, tzinfo=NY)  # after clocks went forward
    body = to_graph(CanonicalEvent("x", start, end, "America/New_York"))
    assert body["start"] == {
        "dateTime": "2024-03-10T01:30:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert body["end"] == {
        "dateTime": "2024-03-10T03:30:00.0000000",
        "timeZone": "Eastern Standard Time",
    }
    assert body["isAllDay"] is False
    back = from_graph(body)
    assert back.start == start
    assert isinstance(back.end, datetime)
    assert back.end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1)


def test_all_day_is_midnight_to_midnight_in_the_event_zone() -> None:
    event = CanonicalEvent("Holiday", date(2024, 4, 6), date(2024, 4, 8), "Australia/Sydney")
    body = to_graph(event)
    assert body["isAllDay"] is True
    assert body["start"] == {
        "dateTime": "2024-04-06T00:00:00.0000000",
        "timeZone": "AUS Eastern Standard Time",
    }
    assert body["end"]["dateTime"] == "2024-04-08T00:00:00.0000000"


def test_all_day_read_back_in_utc_is_never_shifted() -> None:
    item = {
        "isAllDay": True,
        "start": {"dateTime": "2024-04-06T00:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2024-04-07T00:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "AUS Eastern Standard Time",
    }
    event = from_graph(item)
    assert (event.start, event.end, event.tz) == (
        date(2024, 4, 6),
        date(2024, 4, 7),
        "Australia/Sydney",
    )


def test_reading_in_utc_uses_the_original_zone() -> None:
    item = {
        "start": {"dateTime": "2024-07-01T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2024-07-01T09:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "GMT Standard Time",
    }
    assert from_graph(item).start == datetime(2024, 7, 1, 9, tzinfo=ZoneInfo("Europe/London"))
    assert from_graph(item, tz_hint="Europe/Dublin").tz == "Europe/Dublin"


def test_custom_zone_rules() -> None:
    item = {
        "start": {"dateTime": "2024-07-01T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2024-07-01T09:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": CUSTOM_ZONE,
    }
    assert event_zone(item) == "UTC"
    assert event_zone(item, tz_hint="America/Chicago") == "America/Chicago"
    item["start"] = {"dateTime": "2024-07-01T08:00:00.0000000", "timeZone": CUSTOM_ZONE}
    with pytest.raises(UnknownTimeZone):
        from_graph(item)
    item["start"] = {"dateTime": "2024-07-01T08:00:00.0000000", "timeZone": "Mars Time"}
    with pytest.raises(UnknownTimeZone):
        from_graph(item)


def test_repeated_hour_second_pass_goes_out_in_utc() -> None:
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC).astimezone(NY)  # 01:30 EST
    event = CanonicalEvent("x", second, datetime(2024, 11, 3, 8, tzinfo=UTC), "America/New_York")
    body = to_graph(event)
    assert body["start"] == {"dateTime": "2024-11-03T06:30:00.0000000", "timeZone": "UTC"}
    back = from_graph(body)
    assert back.tz == "America/New_York"
    assert back.start.astimezone(UTC) == second.astimezone(UTC)  # type: ignore[union-attr]


def test_tag_is_a_named_string_property_read_from_expand() -> None:
    body = to_graph(CanonicalEvent("x", date(2024, 1, 1), date(2024, 1, 2), "UTC"), TAG)
    assert body["singleValueExtendedProperties"] == [{"id": TAG_PROPERTY_ID, "value": TAG.encode()}]
    assert f"String {{{TAG_NAMESPACE}}} Name CaseCalTag" == TAG_PROPERTY_ID
    assert TAG_PROPERTY_ID in TAG_EXPAND
    assert TAG.encode() in tag_filter(TAG)
    expanded = {"singleValueExtendedProperties": [
        {"id": f"String {{{str(TAG_NAMESPACE).upper()}}} Name CaseCalTag", "value": TAG.encode()}
    ]}  # fmt: skip
    assert graph_tag(expanded) == TAG
    assert graph_tag({"singleValueExtendedProperties": [
        {"id": f"String {{{TAG_NAMESPACE}}} Name casecaltag", "value": TAG.encode()}
    ]}) is None  # fmt: skip
    assert graph_tag({}) is None


def test_html_body_becomes_text_and_text_goes_out_as_text() -> None:
    body = to_graph(
        CanonicalEvent("x", date(2024, 1, 1), date(2024, 1, 2), "UTC", description="a\nb")
    )
    assert body["body"] == {"contentType": "text", "content": "a\nb"}
    body["body"] = {
        "contentType": "html",
        "content": "<html><body><p>a</p><p>b &amp; c</p></body></html>",
    }
    assert from_graph(body).description == "a\n\nb & c"


def test_reminder_privacy_show_as_and_attendees() -> None:
    event = CanonicalEvent(
        "x", date(2024, 1, 1), date(2024, 1, 2), "UTC", reminders=(1440, 60), private=True,
        busy=False, attendees=(Attendee("a@x.org", "A", "tentative"),),
    )  # fmt: skip
    body = to_graph(event, invite=True)  # the firm opted in: Graph mails them
    assert (body["isReminderOn"], body["reminderMinutesBeforeStart"]) == (True, 1440)
    assert (body["sensitivity"], body["showAs"]) == ("private", "free")
    assert body["attendees"] == [
        {"emailAddress": {"address": "a@x.org", "name": "A"}, "type": "required",
         "status": {"response": "tentativelyAccepted"}}
    ]  # fmt: skip
    body["isReminderOn"] = False
    body["showAs"] = "tentative"
    back = from_graph(body)
    assert back.reminders == ()
    assert back.busy
    assert back.attendees[0].response == "tentative"


def test_original_start_of_exceptions() -> None:
    timed = graph_original_start(
        {"originalStart": "2024-03-11T13:00:00Z"}, tz="America/New_York", all_day=False
    )
    assert timed == datetime(2024, 3, 11, 9, tzinfo=NY)
    offset = graph_original_start(
        {"originalStart": "2024-03-11T09:00:00.0000000-04:00"}, tz="UTC", all_day=False
    )
    assert offset == datetime(2024, 3, 11, 13, tzinfo=UTC)
    # all-day: local midnight as a UTC instant, or a floating UTC midnight, give the same day
    local = graph_original_start(
        {"originalStart": "2024-04-05T13:00:00Z"}, tz="Australia/Sydney", all_day=True
    )
    floating = graph_original_start(
        {"originalStart": "2024-04-06T00:00:00Z"}, tz="Australia/Sydney", all_day=True
    )
    assert local == floating == date(2024, 4, 6)
    assert graph_original_start({}, tz="UTC", all_day=True) is None
