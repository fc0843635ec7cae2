"""The pure SAML rules: which address an assertion names, whether the firm lists its domain,
a new user's name and team attribute values, the metadata URL check."""

from __future__ import annotations

import pytest

from casecal.domain.saml import (
    NAMEID_EMAIL,
    check_metadata_url,
    display_name,
    domain_listed,
    email_of,
    group_names,
)

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
ADFS_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"


def test_a_name_id_in_email_format_is_the_address_lower_cased() -> None:
    assert email_of("Cara@Firm.Test", NAMEID_EMAIL, {}) == "cara@firm.test"


def test_a_name_id_in_another_format_is_never_taken_for_an_address() -> None:
    assert email_of("cara@firm.test", PERSISTENT, {}) == ""


def test_the_configured_attribute_comes_first_then_the_name_id_then_well_known_ones() -> None:
    attributes: dict[str, list[object]] = {"Mail": ["x@firm.test"], "work": ["w@firm.test"]}
    assert email_of("n@firm.test", NAMEID_EMAIL, attributes, "WORK") == "w@firm.test"
    assert email_of("n@firm.test", NAMEID_EMAIL, attributes) == "n@firm.test"
    assert email_of("opaque", PERSISTENT, attributes) == "x@firm.test"
    assert email_of("opaque", PERSISTENT, {ADFS_EMAIL: ["A@Firm.test"]}) == "a@firm.test"


@pytest.mark.parametrize("value", ["not an address", "two@@firm.test", "", 42, "a b@firm.test"])
def test_values_that_are_not_addresses_are_skipped(value: object) -> None:
    assert email_of("opaque", PERSISTENT, {"email": [value]}) == ""


def test_only_a_listed_domain_counts() -> None:
    domains = ("firm.test", "firm-uk.test")
    assert domain_listed("a@firm-uk.test", domains)
    assert not domain_listed("a@sub.firm.test", domains)
    assert not domain_listed("a@elsewhere.test", domains)
    assert not domain_listed("no-at-sign", domains)


def test_a_new_users_name_and_groups_come_from_attributes() -> None:
    assert display_name({"displayName": ["Nina N"]}, "n@f.test") == "Nina N"
    assert display_name({"givenName": ["Nina"], "sn": ["Newcomer"]}, "n@f.test") == (
        "Nina Newcomer"
    )
    assert display_name({}, "nina@f.test") == "nina"
    assert group_names({"Groups": ["Probate", " ", 7]}, "groups") == ["Probate"]
    assert group_names({"groups": ["Probate"]}, "") == []


def test_the_metadata_url_is_https_or_loopback_http() -> None:
    url = "https://adfs.firm.test/FederationMetadata/2007-06/FederationMetadata.xml"
    assert check_metadata_url(url) == url
    assert check_metadata_url("http://127.0.0.1:8080/md") == "http://127.0.0.1:8080/md"
    for bad in ("http://adfs.firm.test/md", "ftp://x/md", "https://", "https://x/md#frag"):
        with pytest.raises(ValueError, match="https"):
            check_metadata_url(bad)
