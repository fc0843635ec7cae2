"""Skipping ahead in a series for a window: only rules with a fixed step are moved, by whole
steps, and the occurrences in any window after the new start are exactly the rule's own."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.occurrences import occurrences
from casecal.domain.series_window import period, skip_ahead

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("rule", "step"),
    [
        ("FREQ=DAILY", timedelta(days=1)),
        ("FREQ=WEEKLY;INTERVAL=2", timedelta(days=14)),
        ("FREQ=DAILY;UNTIL=20300101T000000Z", timedelta(days=1)),
        ("FREQ=DAILY;COUNT=1000000", None),  # counted from the first start
        ("FREQ=WEEKLY;BYDAY=MO,WE", None),
        ("FREQ=MONTHLY", None),
        ("not a rule", None),
    ],
)
def test_only_a_fixed_step_is_skipped_by(rule: str, step: timedelta | None) -> None:
    assert period(rule) == step


def test_skip_ahead_lands_on_an_occurrence_before_the_day() -> None:
    start = datetime(2000, 1, 3, 9, 30, tzinfo=NY)
    delta = skip_ahead(start, "FREQ=WEEKLY", date(2026, 3, 1))
    moved = start + delta
    assert moved.date() <= date(2026, 3, 1) < moved.date() + timedelta(days=7)
    assert moved.weekday() == start.weekday()
    assert moved.time() == time(9, 30)  # wall-clock time, across DST changes
    assert skip_ahead(start, "FREQ=WEEKLY", date(1999, 1, 1)) == timedelta(0)


@given(
    first=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)),
    hour=st.integers(0, 23),
    freq=st.sampled_from(["DAILY", "WEEKLY"]),
    interval=st.integers(1, 5),
    offset=st.integers(0, 20_000),
)
def test_the_window_shows_the_same_occurrences_after_skipping(
    first: date, hour: int, freq: str, interval: int, offset: int
) -> None:
    rule = f"FREQ={freq};INTERVAL={interval}"
    start = datetime.combine(first, time(hour), NY)
    day = first + timedelta(days=offset)
    lo = datetime.combine(day, time(), NY)
    hi = lo + timedelta(days=7)
    moved = start + skip_ahead(start, rule, day - timedelta(days=8))
    expected = list(occurrences(rule, start, "America/New_York", lo, hi))
    if offset < 4000 // interval:  # the unskipped expansion is still within its bound
        assert list(occurrences(rule, moved, "America/New_York", lo, hi)) == expected
    assert len(list(occurrences(rule, moved, "America/New_York", lo, hi))) >= 7 // (
        interval * (7 if freq == "WEEKLY" else 1)
    )
