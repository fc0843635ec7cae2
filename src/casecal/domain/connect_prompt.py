"""The connect prompt after a single sign-on, as pure rules: whether a person who just signed in
is taken to the connect page, which calendar provider it offers first, and how long "Not now"
holds. The caller reads the facts (settings in effect, seat, connections, the last "Not now")."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

ASK_TO_CONNECT: Final = "sso.ask_to_connect"
SNOOZE_DAYS: Final = "sso.ask_to_connect_snooze_days"
SEAT_AT_PROVISIONING: Final = "sso.seat_at_provisioning"
DEFAULT_SNOOZE_DAYS: Final = 7
MAX_SNOOZE_DAYS: Final = 365

PROVIDER_OF_IDP: Final = {"entra": "microsoft", "google": "google"}
"""The calendar provider that matches an identity provider: an Entra ID account is a Microsoft
365 mailbox, a Google Workspace account a Google Calendar. Any other kind matches none."""

PROVIDER_ORDER: Final = ("microsoft", "google")
"""The order the connect page lists the providers in (the Calendar Sync page's)."""

CONNECTED_STATES: Final = frozenset(
    {
        "active",
        "needs_reauth",
        "awaiting_consent",
        "awaiting_approval",
        "paused_deletions",
        "paused_no_seat",
        "paused_subscription",
    }
)
"""Connection states that count as having a calendar: the person already went through the
connect flow (Calendar Sync offers Modify or the consent steps). A ``pending`` connection (an
authorisation never finished) and a ``disconnected`` one do not count."""


@dataclass(frozen=True, slots=True)
class PromptFacts:
    ask: bool
    """``sso.ask_to_connect`` in effect for the person."""
    snooze_days: int
    is_case_manager: bool
    seated: bool
    """A seat on an active Calendar Sync subscription: what connecting needs."""
    connection_states: Collection[str]
    """The states of the person's connections."""
    last_not_now: datetime | None
    """When the person last chose "Not now", if ever."""
    allowed: Collection[str]
    """``providers.allowed`` in effect for the person."""
    idp_kind: str
    """The firm's identity provider kind (``entra``, ``google``, ``oidc``...)."""


@dataclass(frozen=True, slots=True)
class Prompt:
    providers: tuple[str, ...]
    """The providers the page offers, the pre-selected one first."""
    preselected: str | None
    """The provider matching the identity provider when it is allowed; None: the person
    chooses."""


def has_calendar(connection_states: Collection[str]) -> bool:
    return any(state in CONNECTED_STATES for state in connection_states)


def snoozed_until(last_not_now: datetime | None, days: int) -> datetime | None:
    """Until when a "Not now" keeps the prompt away (None: it does not)."""
    if last_not_now is None:
        return None
    return last_not_now + timedelta(days=max(days, 0))


def prompt_for(facts: PromptFacts, now: datetime) -> Prompt | None:
    """The prompt to show right after the sign-in, or None to go where the person was going."""
    if not (facts.ask and facts.is_case_manager and facts.seated):
        return None
    if has_calendar(facts.connection_states):
        return None
    until = snoozed_until(facts.last_not_now, facts.snooze_days)
    if until is not None and now < until:
        return None
    return offer(facts.allowed, facts.idp_kind)


def offer(allowed: Collection[str], idp_kind: str) -> Prompt | None:
    """The providers to offer (None when the firm allows none) and the one pre-selected."""
    providers = tuple(p for p in PROVIDER_ORDER if p in allowed)
    if not providers:
        return None
    match = PROVIDER_OF_IDP.get(idp_kind)
    if match is None or match not in providers:
        return Prompt(providers, None)
    return Prompt((match, *(p for p in providers if p != match)), match)
