"""Which budgets a sign-in attempt spends: a known browser's own only for the accounts its
device cookie names; the address's and each other account's for the rest (so another firm's
account with the same email never shares the browser's budget); the email's when it has no
account. And which typed emails are worth a look-up."""

from __future__ import annotations

import uuid

import pytest

from casecal.domain.sign_in_budgets import ADDRESS_FACTOR, Budget, gates_for, throttle_key
from casecal.domain.sign_in_email import plausible_sign_in_email

OWN, OTHER = uuid.UUID(int=1), uuid.UUID(int=2)
ADDRESS = Budget(throttle_key("addr", "192.0.2.1"), 10 * ADDRESS_FACTOR)


def _gates(accounts: list[uuid.UUID], device: str | None, bound: set[uuid.UUID]) -> list[object]:
    found = gates_for(email="ada@x.test", address="192.0.2.1", accounts=accounts,
                      device=device, device_accounts=bound, limit=10)  # fmt: skip
    return [(tuple(b.key for b in g.budgets), g.accounts) for g in found]


def test_a_device_spends_its_own_budget_only_for_the_accounts_it_signed_in_to() -> None:
    device_key = throttle_key("device", "nonce")
    other_key = throttle_key("account", str(OTHER))
    assert _gates([OWN, OTHER], "nonce", {OWN}) == [
        ((device_key,), (OWN,)),
        ((ADDRESS.key, other_key), (OTHER,)),
    ]


def test_without_a_bound_device_every_account_spends_its_shared_budget() -> None:
    own_key, other_key = (throttle_key("account", str(a)) for a in (OWN, OTHER))
    expected = [((ADDRESS.key, own_key), (OWN,)), ((ADDRESS.key, other_key), (OTHER,))]
    assert _gates([OWN, OTHER], None, set()) == expected
    assert _gates([OWN, OTHER], "nonce", set()) == expected  # a cookie naming no account


def test_an_email_without_accounts_spends_the_emails_budget() -> None:
    email_key = throttle_key("email", "ada@x.test")
    assert _gates([], "nonce", {OWN}) == [((ADDRESS.key, email_key), ())]


@pytest.mark.parametrize(
    ("email", "plausible"),
    [("ada@x.test", True), ("zoë@x.test", True), ("", False), ("a\x00@b.test", False),
     ("a\x07@b.test", False), ("a\u200b@b.test", False), ("a" * 321, False)],
)  # fmt: skip
def test_only_plausible_emails_are_looked_up(email: str, plausible: bool) -> None:
    assert plausible_sign_in_email(email) is plausible
