"""`/settings`: effective settings with their source and lock; values set at firm, team or
user level."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from casecal.domain.settings_catalog import Level
from casecal.services import firm_settings as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.schemas.settings import (
    SETTING_KEY,
    SettingPublic,
    SettingsPublic,
    SettingWrite,
)

router = APIRouter(prefix="/settings", tags=["settings"])

LevelQuery = Annotated[
    Level, Query(description="firm, team (with team_id) or user (user_id; the caller's own)")
]
TeamQuery = Annotated[uuid.UUID | None, Query(description="The team, at team level.")]
UserQuery = Annotated[
    uuid.UUID | None, Query(description="The user, at user level (default: the caller).")
]
Key = Annotated[str, Path(pattern=SETTING_KEY, description="A setting's key.")]


@router.get(
    "",
    summary="Effective settings, with where each value comes from and its lock",
    description="The caller's own by default; firm admins may ask for any user, team or the "
    "firm. Another firm's ids answer 404.",
    response_model=SettingsPublic,
)
async def read_settings(
    session: SessionDep,
    actor: CurrentActor,
    level: LevelQuery = Level.USER,
    team_id: TeamQuery = None,
    user_id: UserQuery = None,
) -> SettingsPublic:
    scope = await svc.resolve_scope(session, actor, level, team_id, user_id)
    return SettingsPublic.of(scope, await svc.read_settings(session, actor, scope))


@router.put(
    "/{key}",
    summary="Set a value at a level (and lock it, for firm admins)",
    description="403 names the lock's owner when a level above locked the setting (a team "
    "cannot unlock what the firm locked); 422 names the field when the value does not fit.",
    response_model=SettingPublic,
)
async def set_setting(
    session: SessionDep, actor: CurrentActor, key: Key, body: SettingWrite
) -> SettingPublic:
    scope = await svc.resolve_scope(session, actor, body.level, body.team_id, body.user_id)
    state = await svc.set_value(session, actor, scope, key, body.value, locked=body.locked)
    return SettingPublic.of(state)


@router.delete(
    "/{key}",
    status_code=204,
    response_class=Response,
    summary="Remove a value at a level: the level above shows through again",
)
async def clear_setting(
    session: SessionDep,
    actor: CurrentActor,
    key: Key,
    level: LevelQuery = Level.USER,
    team_id: TeamQuery = None,
    user_id: UserQuery = None,
) -> None:
    scope = await svc.resolve_scope(session, actor, level, team_id, user_id)
    await svc.clear_value(session, actor, scope, key)
