"""Whether a calendar may sync (seat on an active subscription), and what a clean-up removes."""

from __future__ import annotations

import pytest

from casecal.domain.cleanup import created_here
from casecal.domain.entitlement import REASONS, Entitlement, entitlement
from casecal.domain.entries import EntryKind


@pytest.mark.parametrize(
    ("active", "seat", "expected"),
    [
        (True, True, Entitlement.OK),
        (True, False, Entitlement.NO_SEAT),
        (False, True, Entitlement.NO_SUBSCRIPTION),
        (False, False, Entitlement.NO_SUBSCRIPTION),  # the seat comes back with it
        (None, False, Entitlement.OK),  # no subscription record: not judged (see docstring)
    ],
)
def test_entitlement(active: bool | None, seat: bool, expected: Entitlement) -> None:
    assert entitlement(active, seat) is expected


def test_every_pause_has_a_reason_that_promises_nothing_was_deleted() -> None:
    for verdict in (Entitlement.NO_SEAT, Entitlement.NO_SUBSCRIPTION):
        assert REASONS[verdict].startswith("Paused: ")
        assert "Nothing was deleted" in REASONS[verdict]


def test_cleanup_removes_case_entries_and_appointments_made_in_casecal_only() -> None:
    for kind in (EntryKind.COURT_DATE, EntryKind.INTERVIEW, EntryKind.STEP_REMINDER):
        assert created_here(kind, None)
    assert created_here(EntryKind.APPOINTMENT, "host")
    assert not created_here(EntryKind.APPOINTMENT, "remote")
    assert not created_here(EntryKind.APPOINTMENT, None)
