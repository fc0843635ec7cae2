"""Time rule, zones, all-day dates, RRULE checks and the UTC span of each entry kind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from casecal.domain import validation as v
from casecal.errors import ValidationFailed

NY = ZoneInfo("America/New_York")


def test_naive_time_is_wall_time_in_the_zone() -> None:
    assert v.to_utc(datetime(2026, 1, 5, 9), NY, "start_at") == datetime(2026, 1, 5, 14, tzinfo=UTC)
    aware = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert v.to_utc(aware, NY, "start_at") == aware


def test_wall_time_in_a_dst_gap_is_rejected() -> None:
    with pytest.raises(ValidationFailed, match="daylight-saving gap") as err:
        v.to_utc(datetime(2026, 3, 8, 2, 30), NY, "start_at")
    assert err.value.field == "start_at"


@pytest.mark.parametrize("name", ["Mars/Base", "", "../etc/passwd", " UTC", "/UTC"])
def test_unknown_zone(name: str) -> None:
    with pytest.raises(ValidationFailed, match="unknown time zone"):
        v.time_zone(name)


def test_all_day_end_is_exclusive() -> None:
    day = date(2026, 7, 3)
    assert v.all_day_dates(day, None) == (day, date(2026, 7, 4))
    assert v.all_day_dates(day, date(2026, 7, 4)) == (day, date(2026, 7, 4))
    with pytest.raises(ValidationFailed, match="exclusive"):
        v.all_day_dates(day, day)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", "DTSTART"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20260101T000000Z", "COUNT and UNTIL"),
        ("FREQ=SECONDLY", "FREQ"),
        ("FREQ=DAILY;NOPE=1", "not valid"),
        ("FREQ=DAILY;COUNT=1;COUNT=2", "not valid"),
    ],
)
def test_rrule_shape_is_checked(rule: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words):
        v.normalize_rrule(rule)


def test_rrule_is_normalized() -> None:
    assert v.normalize_rrule(" rrule:freq=weekly;byday=mo ") == "FREQ=WEEKLY;BYDAY=MO"


def test_series_span_ends_with_its_last_occurrence() -> None:
    start = datetime(2026, 3, 2, 14, tzinfo=UTC)  # 9:00 in New York, before DST starts
    span = v.timed_span(start, start + timedelta(hours=1), NY, "FREQ=WEEKLY;COUNT=3")
    # the third occurrence is after the DST change: still 9:00 local, now 13:00 UTC
    assert span.ends_at == datetime(2026, 3, 16, 14, tzinfo=UTC)
    assert v.timed_span(start, start, NY, "FREQ=DAILY").ends_at is None
    excluded = v.timed_span(
        start, start + timedelta(hours=1), NY, "FREQ=WEEKLY;COUNT=3",
        ("2026-03-16T13:00:00+00:00",),
    )  # fmt: skip
    assert excluded.ends_at == datetime(2026, 3, 9, 14, tzinfo=UTC)


def test_series_without_occurrences_is_rejected() -> None:
    start = datetime(2026, 3, 2, 14, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="no occurrences"):
        v.timed_span(start, start, NY, "FREQ=DAILY;UNTIL=20250101T000000Z")


def test_all_day_and_day_spans_use_local_midnight() -> None:
    span = v.all_day_span(date(2026, 7, 3), date(2026, 7, 4), NY, "FREQ=DAILY;COUNT=2")
    assert span == v.Span(datetime(2026, 7, 3, 4, tzinfo=UTC), datetime(2026, 7, 5, 4, tzinfo=UTC))
    assert v.day_span(date(2026, 1, 1), NY).ends_at == datetime(2026, 1, 2, 5, tzinfo=UTC)
    assert v.duration_span(span.starts_at, 90).ends_at == span.starts_at + timedelta(minutes=90)


@given(
    start=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    minutes=st.integers(min_value=0, max_value=10_000),
    count=st.integers(min_value=1, max_value=20),
)
@example(start=datetime(2049, 11, 7, 6, 0), minutes=60, count=1)  # the repeated 01:00 (fold)
@example(start=datetime(2026, 3, 8, 6, 30), minutes=120, count=1)  # across spring-forward
def test_series_span_covers_every_occurrence(start: datetime, minutes: int, count: int) -> None:
    aware = start.replace(tzinfo=UTC)
    end = aware + timedelta(minutes=minutes)
    span = v.timed_span(aware, end, NY, f"FREQ=DAILY;COUNT={count}")
    assert span.starts_at == aware
    assert span.ends_at is not None
    assert span.ends_at >= end


def test_exdates_follow_the_time_rule() -> None:
    got = v.parse_exdates(["2026-01-05T09:00:00"], all_day=False, zone=NY)
    assert got == ["2026-01-05T14:00:00+00:00"]
    assert v.parse_exdates(["2026-01-05"], all_day=True, zone=NY) == ["2026-01-05"]
    with pytest.raises(ValidationFailed) as err:
        v.parse_exdates(["x"], all_day=True, zone=NY)
    assert err.value.field == "exdates.0"
