"""Sync direction rules per entry kind and the conflict policy, kept as data.

ARCHITECTURE.md "Direction rules": appointments sync both ways; court dates, interview dates and
opted-in step reminders are host-authoritative. A firm may change the defaults.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from casecal.domain.entries import EntryKind


class Direction(enum.StrEnum):
    """Who owns an entry's content."""

    TWO_WAY = "two_way"
    """Changes flow both ways; a change on both sides is a conflict."""
    HOST_AUTHORITATIVE = "host_authoritative"
    """Host values win: a remote edit is overwritten and a remote delete handled per
    ``RemoteDeletes``; both are logged."""


class RemoteDeletes(enum.StrEnum):
    """What a remote delete of a host-authoritative entry does."""

    RESTORE = "restore"
    """Re-create it on the remote calendar (the default)."""
    RESPECT = "respect"
    """Leave it deleted there until the host entry changes again."""


class ConflictPolicy(enum.StrEnum):
    """Which side wins when both changed since the last sync (two-way kinds only)."""

    NEWER_WINS = "newer_wins"
    """The later edit wins; an edit beats a deletion; a tie goes to the host."""
    HOST_WINS = "host_wins"
    REMOTE_WINS = "remote_wins"


DEFAULT_DIRECTIONS: Final[Mapping[str, Direction]] = MappingProxyType(
    {
        EntryKind.APPOINTMENT: Direction.TWO_WAY,
        EntryKind.COURT_DATE: Direction.HOST_AUTHORITATIVE,
        EntryKind.INTERVIEW: Direction.HOST_AUTHORITATIVE,
        EntryKind.STEP_REMINDER: Direction.HOST_AUTHORITATIVE,
    }
)


@dataclass(frozen=True, slots=True)
class Policy:
    """A firm's sync rules. The defaults are those of ARCHITECTURE.md. Kinds are looked up by
    value, so the store's ``EntryKind`` (also a ``StrEnum``) works as well as the domain's."""

    directions: Mapping[str, Direction] = field(default_factory=lambda: DEFAULT_DIRECTIONS)
    remote_deletes: RemoteDeletes = RemoteDeletes.RESTORE
    conflicts: ConflictPolicy = ConflictPolicy.NEWER_WINS
    remote_deletes_by_kind: Mapping[str, RemoteDeletes] = field(default_factory=dict)
    """Per kind, where it differs from ``remote_deletes`` (the settings' ``remote_deletes.*``)."""

    def direction(self, kind: str) -> Direction:
        """The direction rule of ``kind``; an unknown kind is a programming error."""
        try:
            return self.directions[kind]
        except KeyError:
            raise ValueError(f"no direction rule for entry kind {kind!r}") from None

    def host_authoritative(self, kind: str) -> bool:
        return self.direction(kind) is Direction.HOST_AUTHORITATIVE

    def respects_remote_deletes(self, kind: str) -> bool:
        """True when a remote delete of ``kind`` is left in place rather than restored."""
        chosen = self.remote_deletes_by_kind.get(kind, self.remote_deletes)
        return self.host_authoritative(kind) and chosen is RemoteDeletes.RESPECT


DEFAULT_POLICY: Final = Policy()
