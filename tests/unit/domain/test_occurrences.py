"""Expanding a series in a window, and reading cancelled occurrences from their absence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.event import CanonicalEvent
from casecal.domain.occurrences import absent_occurrences, occurrences
from casecal.domain.recurrence import Recurrence

NY = ZoneInfo("America/New_York")
LO = datetime(2026, 1, 1, tzinfo=UTC)
HI = datetime(2027, 1, 1, tzinfo=UTC)


def _series(rule: str, *, exdates: tuple[datetime, ...] = ()) -> CanonicalEvent:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=NY)  # a Monday, a week before the DST change
    return CanonicalEvent(
        title="Weekly", start=start, end=start + timedelta(hours=1), tz="America/New_York",
        recurrence=Recurrence(rrules=(rule,), exdates=exdates),
    )  # fmt: skip


def test_a_weekly_series_keeps_its_local_time_across_dst() -> None:
    found = list(occurrences("FREQ=WEEKLY;COUNT=3", _series("FREQ=WEEKLY").start,
                             "America/New_York", LO, HI))  # fmt: skip
    assert [v.isoformat() for v in found] == [
        "2026-03-02T09:00:00-05:00",
        "2026-03-09T09:00:00-04:00",
        "2026-03-16T09:00:00-04:00",
    ]


def test_until_and_the_window_bound_the_expansion() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
    until = list(occurrences("FREQ=DAILY;UNTIL=20260304T140000Z", start, "America/New_York",
                             LO, HI))  # fmt: skip
    assert len(until) == 3
    lo, hi = datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 7, tzinfo=UTC)
    window = list(occurrences("FREQ=DAILY", start, "America/New_York", lo, hi))
    assert [v.day for v in window] == [5, 6]  # type: ignore[union-attr]


def test_the_occurrence_missing_from_the_listing_is_the_cancelled_one() -> None:
    event = _series("FREQ=WEEKLY;COUNT=4")
    every = list(occurrences("FREQ=WEEKLY;COUNT=4", event.start, event.tz, LO, HI))
    listed = [every[0], every[1], every[3]]
    assert absent_occurrences(event, listed, LO, HI) == [every[2]]


def test_known_cancellations_are_not_reported_again() -> None:
    event = _series("FREQ=WEEKLY;COUNT=4")
    every = list(occurrences("FREQ=WEEKLY;COUNT=4", event.start, event.tz, LO, HI))
    known = _series("FREQ=WEEKLY;COUNT=4", exdates=(every[2],))  # type: ignore[arg-type]
    assert absent_occurrences(known, [every[0], every[1], every[3]], LO, HI) == []


def test_listings_in_another_zone_match_by_instant() -> None:
    event = _series("FREQ=WEEKLY;COUNT=2")
    every = list(occurrences("FREQ=WEEKLY;COUNT=2", event.start, event.tz, LO, HI))
    in_utc = [v.astimezone(UTC) for v in every]  # type: ignore[union-attr]
    assert absent_occurrences(event, in_utc, LO, HI) == []


def test_all_day_series_yield_dates() -> None:
    start = date(2026, 5, 1)
    event = CanonicalEvent(title="Holiday", start=start, end=date(2026, 5, 2), tz="UTC",
                           recurrence=Recurrence(rrules=("FREQ=YEARLY;COUNT=2",)))  # fmt: skip
    assert absent_occurrences(event, [date(2026, 5, 1)], LO, HI) == []
    assert absent_occurrences(event, [], LO, datetime(2028, 1, 1, tzinfo=UTC)) == [
        date(2026, 5, 1), date(2027, 5, 1)
    ]  # fmt: skip


def test_series_with_more_than_one_rule_are_left_alone() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
    event = CanonicalEvent(
        title="Odd", start=start, end=start + timedelta(hours=1), tz="America/New_York",
        recurrence=Recurrence(rrules=("FREQ=WEEKLY;COUNT=2", "FREQ=DAILY;COUNT=2")),
    )  # fmt: skip
    assert absent_occurrences(event, [], LO, HI) == []


@given(count=st.integers(1, 30), drop=st.sets(st.integers(0, 29)))
def test_absence_is_exactly_what_was_dropped(count: int, drop: set[int]) -> None:
    """Property: remove any subset of a series' occurrences from the listing, and exactly that
    subset is read back as cancelled."""
    rule = f"FREQ=WEEKLY;COUNT={count}"
    event = _series(rule)
    every = list(occurrences(rule, event.start, event.tz, LO, HI))
    assert len(every) == count
    listed = [v for i, v in enumerate(every) if i not in drop]
    expected = [v for i, v in enumerate(every) if i in drop]
    assert absent_occurrences(event, listed, LO, HI) == expected
