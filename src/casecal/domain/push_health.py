"""When a push channel is in doubt (pure): it stayed silent while the remote calendar changed.
A pass that brought remote news proves a change happened after the pass before it started; a
working channel announces such a change with a valid notification after that start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

NOT_NEWS = frozenset({"skipped", "foreign_tag_skipped", "adopt"})
"""Inbound operations that are not remote changes a channel must announce: items skipped, and
events of CaseCal's own adopted after a crash."""


def remote_changed(counts: Mapping[str, Mapping[str, int]]) -> bool:
    """Whether a pass's counts (``{"in": {"appointment.create": 1}, ...}``) hold news from the
    remote calendar."""
    inbound = counts.get("in") or {}
    return any(n > 0 and key.rsplit(".", 1)[-1] not in NOT_NEWS for key, n in inbound.items())


@dataclass(frozen=True, slots=True)
class RunSeen:
    """One successful pass of a connection, as the judgement needs it."""

    started_at: datetime
    changed: bool
    """The pass brought remote news (``remote_changed``)."""


def missed_change(
    created_at: datetime, last_valid_at: datetime | None, runs: Sequence[RunSeen]
) -> RunSeen | None:
    """The first pass (of ``runs``, in order of start) whose remote news the channel should
    have announced and did not: its previous pass started while the channel existed, and no
    valid notification came after that start. None when the channel kept up."""
    for previous, run in pairwise(runs):
        if not run.changed or previous.started_at < created_at:
            continue
        if last_valid_at is None or last_valid_at < previous.started_at:
            return run
    return None
