"""Typed results of a pass: how it ended (``PassOutcome``) and what it counted
(``Direction`` x entry kind x ``Tally``). Both are ``StrEnum``s whose values are the strings
stored in ``SyncRun.outcome`` / ``SyncRun.counts`` and answered by the API, so callers that
compare with plain strings keep working."""

from __future__ import annotations

import enum
from collections import Counter

from casecal.store.tables import ConnectionStatus


class PassOutcome(enum.StrEnum):
    RUNNING = "running"
    """Not ended yet: the run as it is inserted when its pass starts."""
    OK = "ok"
    BUSY = "busy"
    """Another pass of the connection was running (here or in another process)."""
    PAUSED = "paused"
    """The mass-delete guard tripped: the connection waits for a confirmation."""
    NEEDS_REAUTH = "needs_reauth"
    AWAITING_CONSENT = "awaiting_consent"
    FAILED = "failed"
    """A provider error ended the pass; the next one starts where this one stopped."""
    SKIPPED_PENDING = "skipped:pending"
    SKIPPED_NEEDS_REAUTH = "skipped:needs_reauth"
    SKIPPED_AWAITING_CONSENT = "skipped:awaiting_consent"
    SKIPPED_AWAITING_APPROVAL = "skipped:awaiting_approval"
    """The connection waits for an admin's approval: no provider call at all."""
    SKIPPED_PAUSED_DELETIONS = "skipped:paused_deletions"
    SKIPPED_PAUSED_NO_SEAT = "skipped:paused_no_seat"
    SKIPPED_PAUSED_SUBSCRIPTION = "skipped:paused_subscription"
    SKIPPED_DISCONNECTED = "skipped:disconnected"

    @classmethod
    def skipped(cls, status: ConnectionStatus) -> PassOutcome:
        """No pass: the connection is not active (``skipped:<its status>``)."""
        return cls(f"skipped:{status.value}")

    @property
    def status(self) -> ConnectionStatus | None:
        """The connection's status a skipped pass names, else None."""
        head, _, status = self.value.partition(":")
        return ConnectionStatus(status) if head == "skipped" else None


class Direction(enum.StrEnum):
    """Which way what a pass counted went (the outer keys of ``PassReport.counts``)."""

    IN = "in"
    """Remote -> host."""
    OUT = "out"
    """Host -> remote."""
    GUARD = "guard"
    """What the mass-delete guard saw when it tripped (``GuardCount``)."""


class Tally(enum.StrEnum):
    """What happened to one entry (the inner keys are ``<entry kind>.<tally>``)."""

    CREATE = "create"
    UPDATE = "update"
    RESTORE = "restore"
    DELETE = "delete"
    ADOPT = "adopt"
    CONFLICT = "conflict"
    SKIPPED = "skipped"
    FOREIGN_TAG_SKIPPED = "foreign_tag_skipped"
    OCCURRENCE_CHANGED = "occurrence_changed"
    OCCURRENCE_CANCELLED = "occurrence_cancelled"


class GuardCount(enum.StrEnum):
    DELETIONS = "deletions"
    LINKED = "linked"


def count_key(kind: str, tally: Tally) -> str:
    """The key a count is stored under: ``<entry kind>.<tally>`` (e.g. appointment.create)."""
    return f"{kind}.{tally.value}"


Counts = dict[Direction, Counter[str]]
"""A pass's counts: per direction, per ``count_key``."""


def new_counts() -> Counts:
    return {Direction.IN: Counter(), Direction.OUT: Counter()}


def plain(counts: Counts) -> dict[str, dict[str, int]]:
    """The counts as stored and answered (plain strings and ints)."""
    return {direction.value: dict(c) for direction, c in counts.items()}
