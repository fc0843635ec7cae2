"""Settings models: a setting's effective value with its source and lock, and a write."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, JsonValue

from casecal.domain.effective_settings import Source
from casecal.domain.settings_catalog import Level, ValueType
from casecal.services.firm_settings import OWNER_NAMES, Scope, SettingState
from casecal.web.schemas.common import Input

SETTING_KEY = r"^[a-z][a-z_.]{0,63}$"


class SettingPublic(BaseModel):
    key: str = Field(examples=["sync.court_date"])
    label: str
    description: str
    type: ValueType
    allowed: list[str] = Field(description="The choices of a `choice` or `choices` setting.")
    minimum: int | None
    maximum: int | None
    value: JsonValue = Field(description="The effective value: what CaseCal does.")
    source: Source = Field(description="The level the value comes from, or `default`.")
    locked: bool = Field(description="A firm or team lock fixes the value.")
    lock_owner: Level | None = Field(description="The level that locked it (`firm` or `team`).")
    lock_owner_name: str | None = Field(examples=["your firm"])
    lock_set_by: uuid.UUID | None = Field(description="Who set the lock.")
    set_by: uuid.UUID | None = Field(description="Who set the value in force.")
    set_at: datetime | None
    own_value: JsonValue = Field(
        description="The value stored at the level asked about (null: it inherits)."
    )
    own_locked: bool
    may_edit: bool = Field(description="The caller may set or remove the value at this level.")
    may_lock: bool = Field(description="The caller may lock it at this level.")
    user_editable: bool = Field(description="Users may set it for themselves.")

    @classmethod
    def of(cls, state: SettingState) -> SettingPublic:
        spec, eff, own = state.spec, state.effective, state.own
        return cls(
            key=spec.key, label=spec.label, description=spec.description, type=spec.type,
            allowed=list(spec.allowed), minimum=spec.minimum, maximum=spec.maximum,
            value=eff.value, source=eff.source, locked=eff.locked_by is not None,
            lock_owner=eff.locked_by,
            lock_owner_name=None if eff.locked_by is None else OWNER_NAMES[eff.locked_by],
            lock_set_by=eff.lock_set_by, set_by=eff.set_by, set_at=eff.set_at,
            own_value=None if own is None else own.value,
            own_locked=own is not None and own.locked, may_edit=state.may_edit,
            may_lock=state.may_lock, user_editable=spec.user_editable,
        )  # fmt: skip


class SettingsPublic(BaseModel):
    level: Level
    team_id: uuid.UUID | None
    user_id: uuid.UUID | None
    settings: list[SettingPublic]

    @classmethod
    def of(cls, scope: Scope, states: list[SettingState]) -> SettingsPublic:
        return cls(
            level=scope.level,
            team_id=scope.team_id,
            user_id=scope.user_id,
            settings=[SettingPublic.of(s) for s in states],
        )


class SettingWrite(Input):
    level: Level = Field(
        default=Level.USER, description="Where to set it; a user sets only their own level."
    )
    team_id: uuid.UUID | None = Field(default=None, description="The team (team level).")
    user_id: uuid.UUID | None = Field(
        default=None, description="The user (user level; the caller when omitted)."
    )
    value: JsonValue = Field(description="A value of the setting's type.", examples=["off"])
    locked: bool = Field(
        default=False,
        description="Lock it for every level below (firm admins, firm and team level only).",
    )
