"""The effective value of each setting and where it comes from, from the firm, team and user
levels with their locks. Pure: the one rule the API, the pages and the sync engine share.

Walking down from the firm: each level's value replaces the one above it, and a lock stops the
walk, so a lock wins over every level below it (a team cannot unlock what the firm locked) and
removing a value falls back to the next level up. The input is a mapping, not a history, so the
result cannot depend on the order values were written.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from casecal.domain.entries import EntryKind
from casecal.domain.guard import Limits
from casecal.domain.mapping import Presentation
from casecal.domain.policy import ConflictPolicy, Policy, RemoteDeletes
from casecal.domain.settings_catalog import CATALOGUE, TOP_DOWN, Level, SettingSpec, Value


class Source(enum.StrEnum):
    FIRM = "firm"
    TEAM = "team"
    USER = "user"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Stored:
    """One value as written at one level (``value`` is raw JSON: it may no longer fit)."""

    value: object
    locked: bool = False
    set_by: uuid.UUID | None = None
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Effective:
    key: str
    value: Value
    source: Source
    locked_by: Level | None = None
    """The level whose lock fixes this value, if one does."""
    set_by: uuid.UUID | None = None
    """Who wrote the value in force (``None`` for the default)."""
    set_at: datetime | None = None
    lock_set_by: uuid.UUID | None = None


Levels = Mapping[Level, Stored]
"""The values one setting has at each level that applies (a team's view has no user level)."""


def effective(spec: SettingSpec, levels: Levels) -> Effective:
    """The value in force for ``spec``. A value that no longer fits its setting is skipped (the
    level above shows through) but its lock still holds; one stored at a level the setting is
    not set at (``settable_at``) is ignored."""
    value, source, row = spec.default, Source.DEFAULT, None
    for level in TOP_DOWN:
        stored = levels.get(level)
        if stored is None or level not in spec.settable_at:
            continue
        if spec.is_valid(stored.value):
            value, source, row = spec.parse(stored.value), Source(level.value), stored
        if stored.locked and level in spec.lockable_at:
            return _result(spec, value, source, row, level, stored)
    return _result(spec, value, source, row, None, None)


def _result(
    spec: SettingSpec,
    value: Value,
    source: Source,
    row: Stored | None,
    lock: Level | None,
    lock_row: Stored | None,
) -> Effective:
    return Effective(
        key=spec.key,
        value=value,
        source=source,
        locked_by=lock,
        set_by=row.set_by if row else None,
        set_at=row.set_at if row else None,
        lock_set_by=lock_row.set_by if lock_row else None,
    )


def lock_above(spec: SettingSpec, levels: Levels, level: Level) -> Level | None:
    """The highest level above ``level`` that locked ``spec``: a write at ``level`` (a value, a
    removal or a lock) is refused while there is one."""
    for upper in TOP_DOWN[: TOP_DOWN.index(level)]:
        stored = levels.get(upper)
        if stored is not None and stored.locked and upper in spec.lockable_at:
            return upper
    return None


@dataclass(frozen=True, slots=True)
class EffectiveSettings(Mapping[str, Effective]):
    """Every catalogued setting's effective value, with typed reads for the sync engine."""

    items_by_key: Mapping[str, Effective] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Effective:
        return self.items_by_key[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.items_by_key)

    def __len__(self) -> int:
        return len(self.items_by_key)

    def syncs(self, kind: EntryKind, *, opted_in: bool) -> bool:
        """Whether ``kind`` goes to a calendar whose owner did (``opted_in``) or did not choose
        it when connecting. Appointments are their owner's and always sync."""
        if kind is EntryKind.APPOINTMENT:
            return True
        choice = self[f"sync.{kind}"].value
        return choice == "on" or (choice == "opt_in" and opted_in)

    def reminders(self, kind: EntryKind) -> tuple[int, ...]:
        return tuple(_ints(self[f"reminders.{kind}"].value))

    def busy(self, kind: EntryKind) -> bool:
        return self[f"show_as.{kind}"].value == "busy"

    def private(self, kind: EntryKind) -> bool:
        return self[f"visibility.{kind}"].value == "private"

    def conflicts(self) -> ConflictPolicy:
        return ConflictPolicy(str(self["conflicts.appointment"].value))

    def remote_deletes(self, kind: EntryKind) -> RemoteDeletes:
        return RemoteDeletes(str(self[f"remote_deletes.{kind}"].value))

    def limits(self) -> Limits:
        percent, minimum = _ints([self["guard.percent"].value, self["guard.minimum"].value])
        return Limits(percent=percent, minimum=minimum)

    def providers_allowed(self) -> frozenset[str]:
        return frozenset(str(v) for v in _list(self["providers.allowed"].value))

    def invite_kinds(self) -> frozenset[EntryKind]:
        return frozenset(
            EntryKind(str(v)) for v in _list(self["invitations.graph_attendees"].value)
        )

    def flag(self, key: str) -> bool:
        return self[key].value is True

    def presentation(self, kind: EntryKind) -> Presentation | None:
        """The look of ``kind`` on the remote calendar (None for an appointment: its own)."""
        if kind is EntryKind.APPOINTMENT:
            return None
        return Presentation(self.reminders(kind), self.busy(kind), self.private(kind))

    def policy(self) -> Policy:
        """The sync policy: the appointments' conflict rule, each kind's remote deletes."""
        return Policy(
            conflicts=self.conflicts(),
            remote_deletes_by_kind={kind.value: self.remote_deletes(kind) for kind in _SHAPED},
        )

    def shape_digest(self, *, opted_in: bool) -> str:
        """A digest of what decides which entries a calendar holds and how they look (each
        kind's sync, reminders, busy/free, privacy and remote deletes): when it differs from
        the one a connection was last synced with, every entry is planned again."""
        shape = {
            kind.value: [
                self.syncs(kind, opted_in=opted_in),
                list(self.reminders(kind)),
                self.busy(kind),
                self.private(kind),
                self.remote_deletes(kind).value,
            ]
            for kind in _SHAPED
        }
        blob = json.dumps(shape, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_SHAPED = tuple(kind for kind in EntryKind if kind is not EntryKind.APPOINTMENT)
"""The kinds CaseCal shapes itself on a remote calendar (the catalogue's per-kind settings)."""


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _ints(value: object) -> list[int]:
    return [v for v in _list(value) if isinstance(v, int) and not isinstance(v, bool)]


def effective_all(
    stored: Mapping[Level, Mapping[str, Stored]],
    catalogue: Mapping[str, SettingSpec] = CATALOGUE,
) -> EffectiveSettings:
    """Every setting of ``catalogue`` from the values stored per level (keys the catalogue does
    not know are ignored)."""
    result = {}
    for key, spec in catalogue.items():
        levels = {level: by_key[key] for level, by_key in stored.items() if key in by_key}
        result[key] = effective(spec, levels)
    return EffectiveSettings(result)
