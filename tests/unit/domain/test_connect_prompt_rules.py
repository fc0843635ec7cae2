"""The connect prompt's rules: who is asked, which provider is offered first, how long "Not now"
holds, and the settings that drive them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.connect_prompt import Prompt, PromptFacts, offer, prompt_for, snoozed_until
from casecal.domain.effective_settings import Stored, effective_all
from casecal.domain.settings_catalog import CATALOGUE, Level

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
ASKED = PromptFacts(ask=True, snooze_days=7, is_case_manager=True, seated=True,
                    connection_states=(), last_not_now=None,
                    allowed=("google", "microsoft"), idp_kind="entra")  # fmt: skip


def test_an_entra_sign_in_preselects_microsoft_and_offers_google_too() -> None:
    assert prompt_for(ASKED, NOW) == Prompt(("microsoft", "google"), "microsoft")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("entra", "microsoft"), ("google", "google"), ("oidc", None), ("saml", None), ("", None)],
)
def test_the_identity_provider_decides_the_preselected_calendar(
    kind: str, expected: str | None
) -> None:
    prompt = prompt_for(replace(ASKED, idp_kind=kind), NOW)
    assert prompt is not None
    assert prompt.preselected == expected
    assert set(prompt.providers) == {"google", "microsoft"}


def test_a_provider_the_firm_does_not_allow_is_neither_offered_nor_preselected() -> None:
    assert prompt_for(replace(ASKED, allowed=("google",)), NOW) == Prompt(("google",), None)
    assert prompt_for(replace(ASKED, allowed=()), NOW) is None
    assert offer(("microsoft",), "entra") == Prompt(("microsoft",), "microsoft")


@pytest.mark.parametrize(
    "change",
    [
        {"ask": False},
        {"is_case_manager": False},
        {"seated": False},
        {"connection_states": ("active",)},
        {"connection_states": ("needs_reauth",)},
        {"connection_states": ("awaiting_consent",)},
        {"connection_states": ("awaiting_approval",)},
        {"connection_states": ("paused_no_seat", "disconnected")},
    ],
)
def test_nobody_is_asked_who_cannot_or_need_not_connect(change: dict[str, object]) -> None:
    assert prompt_for(replace(ASKED, **change), NOW) is None  # type: ignore[arg-type]


def test_an_unfinished_or_ended_connection_does_not_count_as_a_calendar() -> None:
    facts = replace(ASKED, connection_states=("pending", "disconnected"))
    assert prompt_for(facts, NOW) is not None


@given(days=st.integers(1, 365), minutes=st.integers(-60 * 24 * 400, 60 * 24 * 400))
def test_not_now_holds_for_exactly_the_configured_days(days: int, minutes: int) -> None:
    declined = NOW - timedelta(minutes=minutes)
    facts = replace(ASKED, snooze_days=days, last_not_now=declined)
    asked = prompt_for(facts, NOW) is not None
    assert asked == (declined + timedelta(days=days) <= NOW)
    assert snoozed_until(declined, days) == declined + timedelta(days=days)


def test_the_catalogue_offers_the_prompt_off_by_default_and_lockable() -> None:
    ask = CATALOGUE["sso.ask_to_connect"]
    snooze = CATALOGUE["sso.ask_to_connect_snooze_days"]
    seat = CATALOGUE["sso.seat_at_provisioning"]
    assert (ask.default, snooze.default, seat.default) == (False, 7, False)
    assert Level.FIRM in ask.lockable_at
    assert not ask.user_editable  # a firm rule: a person declines with "Not now"
    assert not snooze.is_valid(0)
    assert snooze.is_valid(30)
    locked = effective_all(
        {
            Level.FIRM: {"sso.ask_to_connect": Stored(True, locked=True)},
            Level.USER: {"sso.ask_to_connect": Stored(False)},
        }
    )
    assert locked.flag("sso.ask_to_connect")
