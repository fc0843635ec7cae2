"""Settings use cases: read the effective settings of a user, a team or the firm, and set or
remove a value at a level the caller may write, below no lock. Every change is audited.

Who writes where: a firm admin sets and locks values for the firm, any team and any user of
the firm; anyone else sets only their own user-level preferences. A value below a lock cannot
be set, removed or locked, by anyone, until the lock is lifted where it was set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.effective_settings import Effective, Stored, effective, lock_above
from casecal.domain.settings_catalog import (
    CATALOGUE,
    TOP_DOWN,
    InvalidValue,
    Level,
    SettingSpec,
    Value,
)
from casecal.errors import NotFound, PermissionDenied, ValidationFailed
from casecal.services.access import Actor
from casecal.services.audit import record
from casecal.services.entries import commit
from casecal.services.lookups import get_firm, get_in_firm
from casecal.store.settings_tables import SettingValue
from casecal.store.tables import Team, User, utcnow
from casecal.sync.outbox_rows import note_outbox_users
from casecal.sync.settings_query import StoredLevels, stored_levels

OWNER_NAMES = {Level.FIRM: "your firm", Level.TEAM: "your team", Level.USER: "you"}


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a value is read or written: a level and the firm's, team's or user's id."""

    level: Level
    scope_id: uuid.UUID
    team_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    name: str = "the firm"
    """How the audit log names it: the firm, the team's or the person's name."""


@dataclass(frozen=True, slots=True)
class SettingState:
    """One setting as seen at one scope: what is in force there, what that scope itself holds,
    and what the caller may do about it."""

    spec: SettingSpec
    effective: Effective
    own: Stored | None
    lock_above: Level | None
    may_edit: bool
    may_lock: bool


async def resolve_scope(
    session: AsyncSession,
    actor: Actor,
    level: Level,
    team_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> Scope:
    """The scope a request names; another firm's team or user is reported as missing (404)."""
    if level is Level.FIRM:
        if team_id is not None or user_id is not None:
            raise ValidationFailed("the firm level takes no team_id or user_id", field="level")
        return Scope(Level.FIRM, actor.firm_id)
    if level is Level.TEAM:
        if team_id is None:
            raise ValidationFailed("the team level needs a team_id", field="team_id")
        team = await get_in_firm(session, Team, team_id, actor.firm_id, field="team_id")
        return Scope(Level.TEAM, team.id, team_id=team.id, name=f"team {team.name}")
    user = await get_in_firm(
        session, User, user_id or actor.user_id, actor.firm_id, field="user_id"
    )
    return Scope(Level.USER, user.id, team_id=user.team_id, user_id=user.id, name=user.name)


def _may_read(actor: Actor, scope: Scope) -> bool:
    return actor.is_admin or (scope.level is Level.USER and scope.user_id == actor.user_id)


def _may_write(actor: Actor, scope: Scope, spec: SettingSpec) -> bool:
    if actor.is_admin:
        return True
    return scope.level is Level.USER and scope.user_id == actor.user_id and spec.user_editable


async def _stored(session: AsyncSession, actor: Actor, scope: Scope) -> StoredLevels:
    firm = await get_firm(session, actor.firm_id)
    stored = await stored_levels(
        session, actor.firm_id, team_id=scope.team_id, user_id=scope.user_id, legacy=firm.settings
    )
    below = TOP_DOWN[TOP_DOWN.index(scope.level) + 1 :]
    return {level: values for level, values in stored.items() if level not in below}


def _levels(stored: StoredLevels, key: str) -> dict[Level, Stored]:
    return {level: values[key] for level, values in stored.items() if key in values}


def _state(actor: Actor, scope: Scope, spec: SettingSpec, stored: StoredLevels) -> SettingState:
    levels = _levels(stored, spec.key)
    above = lock_above(spec, levels, scope.level)
    writable = above is None and scope.level in spec.settable_at and _may_write(actor, scope, spec)
    return SettingState(
        spec=spec,
        effective=effective(spec, levels),
        own=levels.get(scope.level),
        lock_above=above,
        may_edit=writable,
        may_lock=writable and actor.is_admin and scope.level in spec.lockable_at,
    )


async def read_settings(session: AsyncSession, actor: Actor, scope: Scope) -> list[SettingState]:
    """Every setting as ``scope`` sees it (the levels above it and its own)."""
    if not _may_read(actor, scope):
        raise PermissionDenied("only a firm admin may read another user's, a team's or the "
                               "firm's settings")  # fmt: skip
    stored = await _stored(session, actor, scope)
    return [_state(actor, scope, spec, stored) for spec in CATALOGUE.values()]


def spec_of(key: str) -> SettingSpec:
    found = CATALOGUE.get(key)
    if found is None:
        raise NotFound(f"no setting {key!r}", field="key")
    return found


async def _writable(
    session: AsyncSession, actor: Actor, scope: Scope, spec: SettingSpec
) -> StoredLevels:
    """The stored values, once the caller is known to be allowed to change ``spec`` here."""
    if not _may_write(actor, scope, spec):
        raise PermissionDenied(f"only a firm admin may change {spec.key!r} at this level")
    stored = await _stored(session, actor, scope)
    above = lock_above(spec, _levels(stored, spec.key), scope.level)
    if above is not None:
        raise PermissionDenied(f"{spec.label!r} is locked by {OWNER_NAMES[above]}", field="key")
    return stored


def _parse(spec: SettingSpec, value: object) -> Value:
    try:
        return spec.parse(value)
    except InvalidValue as exc:
        raise ValidationFailed(f"{spec.key}: {exc}", field="value") from None


async def _row(session: AsyncSession, actor: Actor, scope: Scope, key: str) -> SettingValue | None:
    query = select(SettingValue).where(
        SettingValue.firm_id == actor.firm_id,
        SettingValue.level == scope.level,
        SettingValue.scope_id == scope.scope_id,
        SettingValue.key == key,
    )
    return (await session.scalars(query)).one_or_none()


async def _kick_after_commit(session: AsyncSession, actor: Actor, scope: Scope) -> None:
    """Have the active connections of everyone ``scope`` covers (the firm's users, the team's
    members, the user) pass once the change commits, as a saved entry kicks its audience's
    (``sync.kicks``). Nothing else is needed: each pass compares the settings that shape its
    calendar with those it was last planned with, so the next scheduled pass applies the
    change even if this kick is lost."""
    if scope.level is Level.USER and scope.user_id is not None:
        users = frozenset({scope.user_id})
    else:
        query = select(User.id).where(User.firm_id == actor.firm_id)
        if scope.level is Level.TEAM:
            query = query.where(User.team_id == scope.team_id)
        users = frozenset((await session.scalars(query)).all())
    note_outbox_users(session, actor.firm_id, users)


def _target(scope: Scope, spec: SettingSpec) -> str:
    """Readable in the audit log (which shows targets as they are): the setting and for whom;
    the ids are in the details."""
    return f"{spec.label} ({scope.name})"


async def set_value(
    session: AsyncSession, actor: Actor, scope: Scope, key: str, value: object, *, locked: bool
) -> SettingState:
    """Set (and lock or unlock) ``key`` at ``scope``: 403 below a lock or outside the caller's
    reach, 422 for a value that does not fit or a lock where none can be set."""
    spec = spec_of(key)
    await _writable(session, actor, scope, spec)
    if scope.level not in spec.settable_at:
        raise ValidationFailed(f"{spec.key} is not set at the {scope.level} level", field="key")
    parsed = _parse(spec, value)
    if locked and (scope.level not in spec.lockable_at or not actor.is_admin):
        raise ValidationFailed(f"{spec.key} cannot be locked at the {scope.level} level",
                               field="locked")  # fmt: skip
    row = await _row(session, actor, scope, key)
    before = None if row is None else {"value": row.value, "locked": row.locked}
    if row is None:
        row = SettingValue(
            firm_id=actor.firm_id, level=scope.level, scope_id=scope.scope_id,
            team_id=scope.team_id if scope.level is Level.TEAM else None,
            user_id=scope.user_id if scope.level is Level.USER else None, key=key,
        )  # fmt: skip
        session.add(row)
    row.value, row.locked, row.set_by, row.set_at = parsed, locked, actor.user_id, utcnow()
    details = {"key": key, "level": scope.level.value, "scope_id": str(scope.scope_id),
               "value": parsed, "locked": locked}  # fmt: skip
    record(session, actor.firm_id, actor.user_id, "setting.set", _target(scope, spec),
           {**details, "before": before})  # fmt: skip
    await _kick_after_commit(session, actor, scope)
    await commit(session)
    stored = await _stored(session, actor, scope)
    return _state(actor, scope, spec, stored)


async def clear_value(session: AsyncSession, actor: Actor, scope: Scope, key: str) -> None:
    """Remove ``key``'s value (and lock) at ``scope``: the level above shows through again."""
    spec = spec_of(key)
    await _writable(session, actor, scope, spec)
    row = await _row(session, actor, scope, key)
    if row is None:
        raise NotFound(f"{key!r} has no value at this level", field="key")
    before = {"value": row.value, "locked": row.locked}
    await session.delete(row)
    details = {"key": key, "level": scope.level.value, "scope_id": str(scope.scope_id)}
    record(session, actor.firm_id, actor.user_id, "setting.cleared", _target(scope, spec),
           {**details, "before": before})  # fmt: skip
    await _kick_after_commit(session, actor, scope)
    await commit(session)
