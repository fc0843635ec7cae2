"""Who is affected by an entry: the users whose calendars show it. Pure, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass


def appointment_audience(owner_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """An appointment goes to its owner only."""
    return frozenset({owner_id})


def case_entry_audience(
    assigned_user_id: uuid.UUID | None, case_manager_ids: Iterable[uuid.UUID]
) -> frozenset[uuid.UUID]:
    """A court date, interview or step reminder goes to the user it names, if it names one,
    else to every case manager assigned to its case."""
    if assigned_user_id is not None:
        return frozenset({assigned_user_id})
    return frozenset(case_manager_ids)


@dataclass(frozen=True)
class AudienceChange:
    """How the audience of one entry moved between two states."""

    kept: frozenset[uuid.UUID]
    lost: frozenset[uuid.UUID]
    gained: frozenset[uuid.UUID]


def audience_change(before: frozenset[uuid.UUID], after: frozenset[uuid.UUID]) -> AudienceChange:
    return AudienceChange(kept=before & after, lost=before - after, gained=after - before)
