"""A series CaseCal accepts ends, within 999 occurrences and 10 years; the check stays cheap
whatever the rule says, and UNTIL at the end of the calendar expands without overflowing."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.occurrences import occurrences
from casecal.domain.recurrence import parse_until
from casecal.domain.series_limits import (
    MAX_SERIES_OCCURRENCES,
    check_series_limits,
    series_horizon,
)
from casecal.errors import ValidationFailed

NY = ZoneInfo("America/New_York")
FIRST = datetime(2026, 3, 2, 9, tzinfo=NY)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=DAILY", "never ends"),
        ("FREQ=WEEKLY;BYDAY=MO", "never ends"),
        ("FREQ=DAILY;COUNT=1000000", "COUNT=1000000 is too many"),
        (f"FREQ=DAILY;COUNT={MAX_SERIES_OCCURRENCES + 1}", "too many"),
        ("FREQ=DAILY;UNTIL=99991231", "more than 10 years"),
        ("FREQ=DAILY;UNTIL=99991231T235959Z", "more than 10 years"),
        ("FREQ=WEEKLY;UNTIL=20360310T000000Z", "more than 10 years"),
        ("FREQ=DAILY;UNTIL=20300101T000000Z", "more than 999 occurrences"),
        ("FREQ=YEARLY;COUNT=12", "runs more than 10 years"),
        ("FREQ=MONTHLY;COUNT=5;BYMONTH=2;BYMONTHDAY=30", "falls on no date"),
        # Rules no day can satisfy were scanned to year 9999 (3-7 s of CPU per request):
        ("FREQ=DAILY;COUNT=5;BYMONTH=2;BYMONTHDAY=30", "falls on no date"),
        ("FREQ=HOURLY;UNTIL=20270101T000000Z;BYMONTH=4;BYMONTHDAY=31", "falls on no date"),
        ("FREQ=MINUTELY;COUNT=5;BYMONTH=2;BYMONTHDAY=30", "falls on no date"),
        ("FREQ=DAILY;COUNT=5;BYWEEKNO=1;BYMONTH=7", "falls on no date"),
        ("FREQ=YEARLY;COUNT=5;BYYEARDAY=366;BYMONTH=1", "runs more than 10 years"),
    ],
)
def test_series_beyond_the_limits_is_refused_naming_the_field(rule: str, words: str) -> None:
    began = time.monotonic()
    with pytest.raises(ValidationFailed, match=words) as err:
        check_series_limits(rule, FIRST, NY)
    assert err.value.field == "rrule"
    assert "at most 999 occurrences" in str(err.value)
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(
    "rule",
    [
        f"FREQ=DAILY;COUNT={MAX_SERIES_OCCURRENCES}",
        "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20301231T000000Z",
        "FREQ=YEARLY;COUNT=11",  # the 11th is exactly ten years on
        "FREQ=MONTHLY;UNTIL=20360302T140000Z",
        "FREQ=DAILY;COUNT=3;BYMONTH=2;BYMONTHDAY=29",  # leap days: 2028, 2032, 2036
        "FREQ=MONTHLY;COUNT=3;BYDAY=5FR",  # a fifth Friday, some months
        "FREQ=MONTHLY;COUNT=3;BYDAY=-1FR;BYMONTH=2",
        "FREQ=WEEKLY;COUNT=3;BYDAY=MO,WE;BYMONTH=3",
    ],
)
def test_series_within_the_limits_is_accepted(rule: str) -> None:
    check_series_limits(rule, FIRST, NY)
    check_series_limits(rule, FIRST.astimezone(UTC), NY)  # the instant, read in the zone


def test_all_day_series_and_leap_days() -> None:
    check_series_limits("FREQ=YEARLY;COUNT=11", date(2026, 7, 3), NY)
    assert series_horizon(date(2024, 2, 29)) == date(2034, 2, 28)
    with pytest.raises(ValidationFailed, match="runs more than 10 years"):
        check_series_limits("FREQ=YEARLY;COUNT=4", date(2024, 2, 29), NY)  # leap days only


def test_until_at_the_end_of_the_calendar_does_not_overflow() -> None:
    """A provider's series with UNTIL=99991231 (in a zone west of UTC the last instant is in
    year 10000) is read and expanded, boundedly, instead of raising OverflowError."""
    assert parse_until("99991231", FIRST) == datetime.max.replace(tzinfo=UTC)
    lo, hi = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    found = list(occurrences("FREQ=DAILY;UNTIL=99991231", FIRST, "America/New_York", lo, hi))
    assert len(found) == 6
