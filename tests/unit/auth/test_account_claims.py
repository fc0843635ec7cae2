"""Which id_token claims name the account: never a bare Microsoft ``email`` (nOAuth), and a
Google address only with ``email_verified`` present and true."""

from __future__ import annotations

from typing import Any

import pytest

from casecal.auth.idtoken import account_claims
from casecal.store.tables import ProviderName

TID = "0b6a3c1e-0000-4000-8000-000000000001"
MS: dict[str, Any] = {"oid": "oid-1", "tid": TID.upper(), "name": "Ann"}


def test_microsoft_preferred_username_is_verified() -> None:
    who = account_claims(ProviderName.MICROSOFT, MS | {"preferred_username": "Ann@Contoso.com",
                                                       "email": "x@evil.example"})  # fmt: skip
    assert (who.email, who.email_verified, who.subject, who.tenant_id) == (
        "ann@contoso.com",
        True,
        "oid-1",
        TID,
    )


@pytest.mark.parametrize("edov", [True, "true", 1, "1"])
def test_microsoft_email_with_xms_edov_is_verified(edov: object) -> None:
    who = account_claims(
        ProviderName.MICROSOFT, MS | {"email": "ann@contoso.com", "xms_edov": edov}
    )
    assert (who.email, who.email_verified, who.domain_to_check) == ("ann@contoso.com", True, "")


@pytest.mark.parametrize("extra", [{}, {"xms_edov": False}, {"xms_edov": "false"},
                                   {"preferred_username": "not an address"}])  # fmt: skip
def test_a_bare_microsoft_email_needs_its_domain_checked(extra: dict[str, Any]) -> None:
    who = account_claims(ProviderName.MICROSOFT, MS | {"email": "ann@contoso.com"} | extra)
    assert (who.email_verified, who.domain_to_check) == (False, "contoso.com")


@pytest.mark.parametrize(("verified", "expected"), [(True, True), ("true", True),
    (False, False), ("false", False), (None, False), ("yes", False)])  # fmt: skip
def test_google_email_verified_must_be_present_and_true(verified: object, expected: bool) -> None:
    claims: dict[str, Any] = {"sub": "s-1", "email": "Bob@Example.org"}
    if verified is not None:
        claims["email_verified"] = verified
    who = account_claims(ProviderName.GOOGLE, claims)
    assert (who.email, who.subject, who.email_verified) == ("bob@example.org", "s-1", expected)


def test_google_without_email_verified_is_unverified() -> None:
    assert not account_claims(ProviderName.GOOGLE, {"sub": "s", "email": "b@x.org"}).email_verified
