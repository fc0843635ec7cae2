"""Who is affected by an entry, and how that changes."""

from __future__ import annotations

import uuid

from casecal.domain.audience import appointment_audience, audience_change, case_entry_audience

A, B, C = (uuid.uuid4() for _ in range(3))


def test_appointment_goes_to_its_owner() -> None:
    assert appointment_audience(A) == {A}


def test_case_entry_goes_to_named_user_or_case_managers() -> None:
    assert case_entry_audience(None, [A, B]) == {A, B}
    assert case_entry_audience(C, [A, B]) == {C}
    assert case_entry_audience(None, []) == frozenset()


def test_audience_change_splits_kept_lost_gained() -> None:
    change = audience_change(frozenset({A, B}), frozenset({B, C}))
    assert (change.kept, change.lost, change.gained) == ({B}, {A}, {C})
