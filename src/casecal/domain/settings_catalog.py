"""The catalogue of settings a firm, a team or a user may set: key, type, default, allowed values.

Defaults are today's behaviour, taken from the modules that own it (``guard.DEFAULT_LIMITS``,
``mapping.RULES``, ``policy``), so a firm that sets nothing syncs exactly as before.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from casecal.domain.connect_prompt import (
    ASK_TO_CONNECT,
    DEFAULT_SNOOZE_DAYS,
    MAX_SNOOZE_DAYS,
    SEAT_AT_PROVISIONING,
    SNOOZE_DAYS,
)
from casecal.domain.entries import EntryKind
from casecal.domain.guard import DEFAULT_LIMITS
from casecal.domain.invitations import GRAPH_INVITE_SETTING
from casecal.domain.mapping import RULES
from casecal.domain.policy import ConflictPolicy, RemoteDeletes

Value = bool | int | str | list[str] | list[int]
"""A setting's value as JSON holds it."""


class Level(enum.StrEnum):
    """Where a value is set. Values inherit downwards; locks bind every level below."""

    FIRM = "firm"
    TEAM = "team"
    USER = "user"


TOP_DOWN: Final = (Level.FIRM, Level.TEAM, Level.USER)


class ValueType(enum.StrEnum):
    BOOL = "bool"
    INT = "int"
    CHOICE = "choice"
    """One of ``allowed``."""
    CHOICES = "choices"
    """Any subset of ``allowed``, kept in ``allowed``'s order."""
    MINUTES = "minutes"
    """Reminder offsets in minutes, at most ``MAX_REMINDERS``, largest first."""


class InvalidValue(ValueError):
    """A value that does not fit its setting; the message says what would."""


MAX_REMINDERS: Final = 5
MAX_REMINDER_MINUTES: Final = 4 * 7 * 24 * 60
"""Four weeks, the longest reminder both providers accept."""
PROVIDERS: Final = ("google", "microsoft", "caldav")


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    label: str
    description: str
    type: ValueType
    default: Value
    allowed: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    user_editable: bool = False
    """True for a person's own preference; a firm's rules (approval, providers, the guard)
    are set for a user by a firm admin only."""
    lockable_at: frozenset[Level] = frozenset({Level.FIRM, Level.TEAM})
    settable_at: frozenset[Level] = frozenset(TOP_DOWN)
    """The levels a value may be set at; a value stored at another level is never in force
    (a firm rule about a team's members, such as approving connections, is not one person's)."""

    def parse(self, raw: object) -> Value:
        """``raw`` as this setting's value in its normal form, or ``InvalidValue``."""
        match self.type:
            case ValueType.BOOL:
                if isinstance(raw, bool):
                    return raw
                raise InvalidValue("must be true or false")
            case ValueType.INT:
                return _bounded(raw, self.minimum, self.maximum)
            case ValueType.CHOICE:
                if isinstance(raw, str) and raw in self.allowed:
                    return raw
                raise InvalidValue(f"must be one of {', '.join(self.allowed)}")
            case ValueType.CHOICES:
                if not isinstance(raw, list) or not all(
                    isinstance(v, str) and v in self.allowed for v in raw
                ):
                    raise InvalidValue(f"must be a list of {', '.join(self.allowed)}")
                return [v for v in self.allowed if v in raw]
            case ValueType.MINUTES:
                if not isinstance(raw, list) or len(raw) > MAX_REMINDERS:
                    raise InvalidValue(f"must be a list of at most {MAX_REMINDERS} minute counts")
                minutes = {_bounded(v, 0, MAX_REMINDER_MINUTES) for v in raw}
                return sorted(minutes, reverse=True)
        raise AssertionError(self.type)  # pragma: no cover - every type is matched above

    def is_valid(self, raw: object) -> bool:
        try:
            self.parse(raw)
        except InvalidValue:
            return False
        return True


def _bounded(raw: object, low: int | None, high: int | None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidValue("must be a whole number")
    if (low is not None and raw < low) or (high is not None and raw > high):
        raise InvalidValue(f"must be within {low}..{high}")
    return raw


_PUSHED_KINDS: Final = (EntryKind.COURT_DATE, EntryKind.INTERVIEW, EntryKind.STEP_REMINDER)
"""Kinds CaseCal shapes itself on a remote calendar (an appointment carries its own reminder,
busy/free and privacy)."""
_NAMES: Final = {
    EntryKind.APPOINTMENT: "appointments",
    EntryKind.COURT_DATE: "court dates",
    EntryKind.INTERVIEW: "interviews",
    EntryKind.STEP_REMINDER: "step reminders",
}


def _kind_specs() -> list[SettingSpec]:
    specs = []
    for kind in _PUSHED_KINDS:
        name, rules = _NAMES[kind], RULES[kind]
        opt_in = kind is EntryKind.STEP_REMINDER
        specs += [
            SettingSpec(
                f"sync.{kind}", f"Sync {name}",
                f"on: {name} sync to every connected calendar; off: never"
                + ("; opt_in: each person chooses when connecting" if opt_in else ""),
                ValueType.CHOICE, "opt_in" if opt_in else "on",
                allowed=("on", "opt_in", "off") if opt_in else ("on", "off"), user_editable=True,
            ),
            SettingSpec(
                f"reminders.{kind}", f"Reminders of {name}",
                "Minutes before the event (for an all-day event: before its midnight)",
                ValueType.MINUTES, list(rules.reminders), user_editable=True,
            ),
            SettingSpec(
                f"show_as.{kind}", f"{name.capitalize()} show as",
                "Busy or free on the remote calendar", ValueType.CHOICE,
                "busy" if rules.busy else "free", allowed=("busy", "free"), user_editable=True,
            ),
            SettingSpec(
                f"visibility.{kind}", f"Visibility of {name}",
                "private: others who can see the calendar see a busy block only",
                ValueType.CHOICE, "normal", allowed=("normal", "private"), user_editable=True,
            ),
            SettingSpec(
                f"remote_deletes.{kind}", f"When {name} are deleted on the remote calendar",
                f"{name.capitalize()} are CaseCal's (no conflicts): restore puts a deleted one "
                "back, respect leaves it deleted until it changes in CaseCal",
                ValueType.CHOICE, RemoteDeletes.RESTORE.value,
                allowed=tuple(r.value for r in RemoteDeletes),
            ),
        ]  # fmt: skip
    return specs


_SPECS: Final = [
    SettingSpec(
        ASK_TO_CONNECT, "Ask users to connect their calendar when they sign in with SSO",
        "A case manager with a seat and no connected calendar goes from a single sign-on "
        "straight to the connect page, their identity provider's calendar offered first",
        ValueType.BOOL, False,
    ),
    SettingSpec(
        SNOOZE_DAYS, "Days \"Not now\" on the connect prompt is remembered",
        "After \"Not now\", single sign-on does not ask again for this many days",
        ValueType.INT, DEFAULT_SNOOZE_DAYS, minimum=1, maximum=MAX_SNOOZE_DAYS,
    ),
    SettingSpec(
        SEAT_AT_PROVISIONING, "Give a seat to case managers single sign-on creates",
        "An account created at its first SSO sign-in gets a Calendar Sync seat at once when the "
        "firm has a requested or active subscription",
        ValueType.BOOL, False,
    ),
    SettingSpec(
        "providers.allowed", "Calendar providers allowed", "Which calendars people may connect",
        ValueType.CHOICES, list(PROVIDERS), allowed=PROVIDERS,
    ),
    SettingSpec(
        "connections.require_approval", "Require admin approval of each connection",
        "A case manager's new connection waits until a firm admin (or their team's admin) "
        "approves it; nothing syncs before",
        ValueType.BOOL, False, settable_at=frozenset({Level.FIRM, Level.TEAM}),
    ),
    SettingSpec(
        "conflicts.appointment", "When an appointment changed on both sides",
        "newer_wins: the later edit; host_wins: CaseCal's; remote_wins: the calendar's",
        ValueType.CHOICE, ConflictPolicy.NEWER_WINS.value,
        allowed=tuple(c.value for c in ConflictPolicy), user_editable=True,
    ),
    *_kind_specs(),
    SettingSpec(
        "invitations.graph_attendees", "Kinds whose attendees Microsoft 365 may invite",
        "Graph mails attendees an invitation; CaseCal lists none unless a kind is chosen",
        ValueType.CHOICES, [], allowed=tuple(k.value for k in EntryKind),
    ),
    SettingSpec(
        "guard.percent", "Mass-delete guard: share of linked events",
        "A pass deleting more than this percentage (and at least the minimum) waits for a "
        "confirmation", ValueType.INT, DEFAULT_LIMITS.percent, minimum=0, maximum=100,
    ),
    SettingSpec(
        "guard.minimum", "Mass-delete guard: smallest number of deletions",
        "Fewer deletions than this never trip the guard",
        ValueType.INT, DEFAULT_LIMITS.minimum, minimum=0, maximum=100_000,
    ),
]  # fmt: skip

CATALOGUE: Final[Mapping[str, SettingSpec]] = MappingProxyType({s.key: s for s in _SPECS})


def spec(key: str) -> SettingSpec | None:
    return CATALOGUE.get(key)


_LEGACY: Final = {
    "conflicts": ("conflicts.appointment",),
    "remote_deletes": tuple(f"remote_deletes.{kind}" for kind in _PUSHED_KINDS),
    GRAPH_INVITE_SETTING: ("invitations.graph_attendees",),
}


def legacy_firm_values(settings: Mapping[str, object] | None) -> dict[str, Value]:
    """The firm-level values ``Firm.settings`` (the JSON column that came first) already holds,
    so a firm that set them keeps them; values that do not fit are left out."""
    values: dict[str, Value] = {}
    for old, keys in _LEGACY.items():
        raw = (settings or {}).get(old)
        for key in keys:
            if raw is not None and CATALOGUE[key].is_valid(raw):
                values[key] = CATALOGUE[key].parse(raw)
    return values
