"""The mass-delete guard: the 20% AND 25 threshold, the empty-listing rule, and release by
confirmation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.guard import Limits, Reason, review


@pytest.mark.parametrize(
    ("linked", "deletions", "allowed", "reason"),
    [
        (100, 0, True, Reason.NO_DELETIONS),
        (100, 20, True, Reason.OK),  # exactly 20%: not more than the limit
        (100, 21, True, Reason.OK),  # over 20% but fewer than 25
        (100, 25, False, Reason.MASS_DELETE),
        (125, 25, True, Reason.OK),  # exactly 20% of 125
        (125, 26, False, Reason.MASS_DELETE),
        (1000, 199, True, Reason.OK),  # 199 items, but under 20%
        (1000, 201, False, Reason.MASS_DELETE),
        (10, 10, True, Reason.OK),  # a small calendar may be emptied without asking
        (30, 30, False, Reason.MASS_DELETE),
    ],
)
def test_threshold(linked: int, deletions: int, allowed: bool, reason: Reason) -> None:
    verdict = review(linked, deletions)
    assert (verdict.allowed, verdict.reason) == (allowed, reason)
    assert verdict.tripped is not allowed
    assert verdict.message
    assert (verdict.linked, verdict.deletions) == (linked, deletions)


def test_mass_delete_message_says_why() -> None:
    verdict = review(100, 40)
    assert "40 of 100" in verdict.message
    assert "20%" in verdict.message
    assert "confirmation" in verdict.message


def test_confirmation_releases_up_to_the_confirmed_count() -> None:
    assert review(100, 40, confirmed=40).reason is Reason.CONFIRMED
    assert review(100, 40, confirmed=40).allowed
    # More deletions than were confirmed: still held.
    assert review(100, 41, confirmed=40).reason is Reason.MASS_DELETE


def test_empty_listing_with_links_deletes_nothing() -> None:
    verdict = review(3, 3, listed=0)
    assert verdict.tripped
    assert verdict.reason is Reason.EMPTY_LISTING
    assert "empty" in verdict.message
    # Even a small planned deletion is held: the read is suspicious, not the count.
    assert review(200, 1, listed=0).reason is Reason.EMPTY_LISTING


def test_empty_listing_released_only_by_confirming_every_link() -> None:
    assert review(3, 3, listed=0, confirmed=2).tripped
    assert review(3, 3, listed=0, confirmed=3).reason is Reason.CONFIRMED


def test_empty_listing_without_links_is_fine() -> None:
    assert review(0, 0, listed=0).allowed


def test_a_non_empty_full_listing_uses_the_threshold() -> None:
    assert review(100, 5, listed=95).reason is Reason.OK
    assert review(100, 90, listed=10).reason is Reason.MASS_DELETE


def test_custom_limits() -> None:
    strict = Limits(percent=5, minimum=2)
    assert review(100, 6, limits=strict).tripped
    assert review(100, 5, limits=strict).allowed


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        review(-1, 0)
    with pytest.raises(ValueError, match="percent"):
        Limits(percent=120)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_trips_exactly_when_over_both_limits(linked: int, deletions: int) -> None:
    over = deletions >= 25 and deletions * 5 > linked
    assert review(linked, deletions).tripped is over
