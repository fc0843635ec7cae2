"""Loads the effective settings of one user (firm, their team, themselves) in two queries.

The sync engine reads settings only through this and ``EffectiveSettings``; the settings
service uses the same loader, so the API shows what the engine does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from casecal.domain.effective_settings import EffectiveSettings, Stored, effective_all
from casecal.domain.settings_catalog import Level, legacy_firm_values
from casecal.store.settings_tables import SettingValue
from casecal.store.tables import Firm, User

StoredLevels = dict[Level, dict[str, Stored]]
Id = uuid.UUID | ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]
"""An id, or the column or subquery of the query that holds it."""


def scope_of(
    firm_id: Id,
    *,
    team_id: uuid.UUID | ColumnElement[uuid.UUID | None] | None = None,
    user_id: Id | None = None,
) -> ColumnElement[bool]:
    """The rows of ``setting_values`` stored for the firm, ``team_id`` and ``user_id`` (each
    optional; each may be a column or a subquery of the query that uses the condition)."""
    scopes = [SettingValue.level == Level.FIRM]
    if team_id is not None:
        scopes.append(and_(SettingValue.level == Level.TEAM, SettingValue.scope_id == team_id))
    if user_id is not None:
        scopes.append(and_(SettingValue.level == Level.USER, SettingValue.scope_id == user_id))
    return and_(SettingValue.firm_id == firm_id, or_(*scopes))


def levels_of(rows: Iterable[SettingValue], legacy: Mapping[str, Any] | None) -> StoredLevels:
    """The values of ``rows`` by level, with ``legacy`` (``Firm.settings``) as the firm's own
    unlocked values where the firm has no row for the key."""
    stored: StoredLevels = {Level.FIRM: {}}
    for row in rows:
        stored.setdefault(row.level, {})[row.key] = Stored(
            row.value, locked=row.locked, set_by=row.set_by, set_at=row.set_at
        )
    for key, value in legacy_firm_values(legacy).items():
        stored[Level.FIRM].setdefault(key, Stored(value))
    return stored


async def stored_levels(
    session: AsyncSession,
    firm_id: uuid.UUID,
    *,
    team_id: uuid.UUID | ColumnElement[uuid.UUID | None] | None = None,
    user_id: uuid.UUID | None = None,
    legacy: Mapping[str, Any] | None = None,
) -> StoredLevels:
    """The values stored for the firm, ``team_id`` and ``user_id`` (each optional), by level,
    in one query (``team_id`` may be a subquery). ``legacy`` is ``Firm.settings``: what it
    holds counts as the firm's own unlocked values where the firm has no row for the key."""
    query = select(SettingValue).where(scope_of(firm_id, team_id=team_id, user_id=user_id))
    return levels_of((await session.scalars(query)).all(), legacy)


async def effective_for(
    session: AsyncSession, firm_id: uuid.UUID, user_id: uuid.UUID
) -> EffectiveSettings:
    """The settings in force for ``user_id`` of ``firm_id`` (a user of another firm, or none,
    gets the firm's)."""
    found = (
        await session.execute(
            select(Firm.settings, User.id, User.team_id)
            .select_from(Firm)
            .outerjoin(User, and_(User.id == user_id, User.firm_id == Firm.id))
            .where(Firm.id == firm_id)
        )
    ).one_or_none()
    legacy, member, team_id = found if found is not None else (None, None, None)
    stored = await stored_levels(session, firm_id, team_id=team_id, user_id=member, legacy=legacy)
    return effective_all(stored)


def team_of(user_id: Id, firm_id: Id) -> ColumnElement[uuid.UUID | None]:
    """The team of the user (a subquery; NULL when none, or no such user in the firm)."""
    return select(User.team_id).where(User.id == user_id, User.firm_id == firm_id).scalar_subquery()


async def effective_for_member(
    session: AsyncSession, firm: Firm, user_id: uuid.UUID
) -> EffectiveSettings:
    """The settings in force for ``user_id``, a member of ``firm`` (a row the caller already
    holds, so its legacy ``settings`` need no read): one query, the user's team found by a
    subquery. (A sync pass reads the same rows with its connection: ``pass_context``.)"""
    stored = await stored_levels(
        session, firm.id, team_id=team_of(user_id, firm.id), user_id=user_id, legacy=firm.settings
    )
    return effective_all(stored)
