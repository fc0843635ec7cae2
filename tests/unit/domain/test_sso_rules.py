"""The SSO rules without I/O: the admin's domain and tenant lists, the issuer URL, who may use
a password when the firm requires SSO, and the team a group claim names."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.sso import (
    MSA_TENANT,
    InvalidSsoSetting,
    check_issuer,
    discovery_url_of,
    domain_of,
    group_values,
    parse_domains,
    parse_tenants,
    password_allowed,
    team_for_groups,
)


def test_domains_are_lower_cased_deduplicated_and_checked() -> None:
    assert parse_domains("Firm.test, @firm.test\nbranch.firm.test") == (
        "firm.test",
        "branch.firm.test",
    )
    with pytest.raises(InvalidSsoSetting, match="not an email domain"):
        parse_domains("firm")


def test_tenants_are_guids_and_never_the_personal_accounts_tenant() -> None:
    tid = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
    assert parse_tenants(f"{tid} {tid.lower()}") == (tid.lower(),)
    with pytest.raises(InvalidSsoSetting, match="not a tenant id"):
        parse_tenants("contoso.com")
    with pytest.raises(InvalidSsoSetting, match="personal Microsoft accounts"):
        parse_tenants(MSA_TENANT)


@pytest.mark.parametrize(
    "issuer",
    ["https://firm.okta.com", "https://sso.firm.test/realms/firm", "http://127.0.0.1:8081"],
)
def test_issuers_are_https_or_loopback(issuer: str) -> None:
    assert check_issuer(f"  {issuer} ") == issuer


@pytest.mark.parametrize(
    "issuer", ["http://firm.okta.com", "ftp://x.test", "https://x.test/?a=1", "firm.okta.com"]
)
def test_other_issuers_are_refused(issuer: str) -> None:
    with pytest.raises(InvalidSsoSetting):
        check_issuer(issuer)


def test_discovery_url_drops_one_trailing_slash() -> None:
    assert discovery_url_of("https://firm.okta.com/oauth2/default/") == (
        "https://firm.okta.com/oauth2/default/.well-known/openid-configuration"
    )


def test_domain_of() -> None:
    assert domain_of(" Ann@Firm.Test ") == "firm.test"
    assert domain_of("no-at-sign") == ""
    assert domain_of("@firm.test") == ""


@given(require=st.booleans(), break_glass=st.booleans())
def test_a_password_is_refused_only_where_sso_is_required_and_not_for_break_glass(
    require: bool, break_glass: bool
) -> None:
    allowed = password_allowed(require_sso=require, is_break_glass=break_glass)
    assert allowed == (not require or break_glass)


def test_the_first_group_naming_a_team_picks_it() -> None:
    family, probate = uuid.uuid4(), uuid.uuid4()
    teams = {"Family law": family, "Probate": probate}
    assert team_for_groups(group_values(["Everyone", "probate", "Family law"]), teams) == probate
    assert team_for_groups(group_values("Family Law"), teams) == family
    assert team_for_groups(group_values(["Everyone"]), teams) is None
    assert group_values({"not": "a list"}) == []
