"""The sync window: "from now on" against "upcoming" backfill, the one-year import horizon,
all-day dates read in the connection's zone, and tombstone retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.window import (
    Backfill,
    as_datetime,
    one_year_after,
    sync_window,
    tombstone_expired,
)

NY = ZoneInfo("America/New_York")
ACTIVATED = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 11:30 in New York
BEFORE = ACTIVATED - timedelta(days=90)


def test_upcoming_starts_at_midnight_thirty_days_before_today_in_the_users_zone() -> None:
    window = sync_window(Backfill.UPCOMING, ACTIVATED, NY)
    assert window.start == datetime(2026, 2, 8, tzinfo=NY)
    assert window.end == ACTIVATED + (datetime(2027, 3, 10) - datetime(2026, 3, 10))


def test_today_is_the_users_today() -> None:
    # 02:00 UTC on 10 March is still 9 March in New York.
    window = sync_window(Backfill.UPCOMING, datetime(2026, 3, 10, 2, 0, tzinfo=UTC), NY)
    assert window.start == datetime(2026, 2, 7, tzinfo=NY)


def test_upcoming_takes_existing_entries_that_end_after_the_start() -> None:
    window = sync_window(Backfill.UPCOMING, ACTIVATED, NY)
    ended_40_days_ago = ACTIVATED - timedelta(days=40)
    ended_10_days_ago = ACTIVATED - timedelta(days=10)
    assert not window.includes_host_entry(ended_40_days_ago, BEFORE)
    assert window.includes_host_entry(ended_10_days_ago, BEFORE)
    assert window.includes_host_entry(None, BEFORE)  # a series without end
    # An all-day entry: its exclusive end date, read as midnight in New York.
    assert window.includes_host_entry(date(2026, 2, 9), BEFORE)
    assert not window.includes_host_entry(date(2026, 2, 8), BEFORE)


def test_from_now_on_takes_only_entries_changed_after_activation() -> None:
    window = sync_window(Backfill.FROM_NOW_ON, ACTIVATED, NY)
    assert window.start == ACTIVATED
    future = ACTIVATED + timedelta(days=5)
    assert not window.includes_host_entry(future, BEFORE)
    assert window.includes_host_entry(future, ACTIVATED)
    # An old entry edited after activation is followed, whatever its date.
    assert window.includes_host_entry(ACTIVATED - timedelta(days=400), ACTIVATED + timedelta(1))


@pytest.mark.parametrize("backfill", list(Backfill))
def test_remote_import_runs_from_the_start_to_a_year_ahead(backfill: Backfill) -> None:
    window = sync_window(backfill, ACTIVATED, NY)
    hour = timedelta(hours=1)
    assert window.includes_remote_event(window.start, window.start + hour)
    assert not window.includes_remote_event(window.start - 2 * hour, window.start)
    assert window.includes_remote_event(window.end - hour, window.end)
    assert not window.includes_remote_event(window.end, window.end + hour)
    assert window.includes_remote_event(window.start - timedelta(days=900), None)  # open series
    assert not window.includes_remote_event(window.end + hour, None)


def test_all_day_remote_event_uses_dates() -> None:
    window = sync_window(Backfill.UPCOMING, ACTIVATED, NY)
    assert window.includes_remote_event(date(2026, 2, 7), date(2026, 2, 9))
    assert not window.includes_remote_event(date(2026, 2, 6), date(2026, 2, 8))


def test_one_year_after_handles_leap_day() -> None:
    assert one_year_after(datetime(2028, 2, 29, 9, tzinfo=UTC)) == datetime(
        2029, 2, 28, 9, tzinfo=UTC
    )
    assert one_year_after(datetime(2026, 3, 1, tzinfo=NY)) == datetime(2027, 3, 1, tzinfo=NY)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        sync_window(Backfill.UPCOMING, datetime(2026, 3, 10), NY)
    with pytest.raises(ValueError, match="aware"):
        as_datetime(datetime(2026, 3, 10), NY)


def test_tombstones_are_kept_thirty_days() -> None:
    deleted = datetime(2026, 3, 1, tzinfo=UTC)
    assert not tombstone_expired(deleted, deleted + timedelta(days=29, hours=23))
    assert tombstone_expired(deleted, deleted + timedelta(days=30))
    assert tombstone_expired(deleted, deleted + timedelta(days=2), retention=timedelta(days=1))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(list(Backfill)),
)
def test_window_is_ordered_and_starts_by_activation(moment: datetime, backfill: Backfill) -> None:
    window = sync_window(backfill, moment, NY)
    assert window.start <= moment < window.end
    assert moment - window.start <= timedelta(days=32)
    assert timedelta(days=364) <= window.end - moment <= timedelta(days=366)
