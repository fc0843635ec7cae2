"""What the settings pages share: a setting's row as a person reads it (value, where it comes
from, who locked it) and a posted form turned back into a value of the setting's type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from casecal.domain.effective_settings import Source
from casecal.domain.settings_catalog import SettingSpec, Value, ValueType
from casecal.errors import ValidationFailed
from casecal.services.access import Actor
from casecal.services.firm_settings import (
    OWNER_NAMES,
    Scope,
    SettingState,
    clear_value,
    set_value,
    spec_of,
)
from casecal.services.users import user_names

SOURCE_TEXT = {
    Source.DEFAULT: "CaseCal's default",
    Source.FIRM: "Set by your firm",
    Source.TEAM: "Set by your team",
    Source.USER: "Set for this person",
}


@dataclass(frozen=True, slots=True)
class SettingRow:
    state: SettingState
    shown: str
    """The effective value as words."""
    source: str
    lock: str
    """``Locked by your firm (Ada Admin)``, or empty."""
    own: Value | None
    """The value stored at the page's level, to prefill the form (else the effective one)."""

    @property
    def spec(self) -> SettingSpec:
        return self.state.spec


def shown(spec: SettingSpec, value: object) -> str:
    if spec.type is ValueType.BOOL:
        return "Yes" if value is True else "No"
    if spec.type is ValueType.CHOICE:
        return str(value).replace("_", " ")
    if isinstance(value, list):
        if not value:
            return "None"
        if spec.type is ValueType.MINUTES:
            return ", ".join(f"{v} min" for v in value)
        return ", ".join(str(v).replace("_", " ") for v in value)
    return str(value)


async def rows_of(
    session: AsyncSession, firm_id: uuid.UUID, states: list[SettingState], *, you: uuid.UUID
) -> list[SettingRow]:
    ids = [s.effective.set_by for s in states] + [s.effective.lock_set_by for s in states]
    who = await user_names(session, firm_id, ids)
    rows = []
    for state in states:
        eff = state.effective
        source = SOURCE_TEXT[eff.source]
        if eff.source is Source.USER and eff.set_by == you:
            source = "Set by you"
        if eff.set_by is not None and eff.set_by != you and eff.set_by in who:
            source += f" ({who[eff.set_by]})"
        lock = ""
        if eff.locked_by is not None:
            lock = f"Locked by {OWNER_NAMES[eff.locked_by]}"
            if eff.lock_set_by is not None and eff.lock_set_by in who:
                lock += f" ({who[eff.lock_set_by]})"
        own: Value = eff.value
        if state.own is not None and state.spec.is_valid(state.own.value):
            own = state.spec.parse(state.own.value)
        rows.append(SettingRow(state, shown(state.spec, eff.value), source, lock, own))
    return rows


def form_value(spec: SettingSpec, form: FormData) -> object:
    """The posted value in the setting's type; ``SettingSpec.parse`` judges it afterwards."""
    if spec.type is ValueType.CHOICES:
        return [str(v) for v in form.getlist("value")]
    raw = str(form.get("value") or "").strip()
    if spec.type is ValueType.BOOL:
        return raw == "true"
    if spec.type is ValueType.CHOICE:
        return raw
    try:
        if spec.type is ValueType.INT:
            return int(raw)
        return [int(part) for part in raw.replace(",", " ").split()]
    except ValueError:
        raise ValidationFailed(f"{spec.label}: whole numbers only", field="value") from None


async def apply_form(
    session: AsyncSession, actor: Actor, scope: Scope, key: str, form: FormData
) -> None:
    """Carry out one setting form: ``op=clear`` removes the value at ``scope``, anything
    else saves the posted value (locked when the lock box is ticked)."""
    spec = spec_of(key)
    if form.get("op") == "clear":
        await clear_value(session, actor, scope, key)
        return
    value = form_value(spec, form)
    await set_value(session, actor, scope, key, value, locked=form.get("locked") == "true")
