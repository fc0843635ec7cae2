"""SAML sign-in rules that need no I/O: which address an assertion names (a NameID in email
format, or the firm's email attribute), whether the firm lists its domain, and what an
AuthnRequest ID and the metadata the admin gives may look like."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from casecal.domain.sso import domain_of

NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
)
"""Attribute names that carry an address at common IdPs (ADFS's claim URI, LDAP's mail)."""
MAX_METADATA_BYTES = 512 * 1024
MAX_RESPONSE_BYTES = 256 * 1024
"""A SAMLResponse (base64) larger than this is refused before it is decoded."""
_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


def email_of(
    name_id: str,
    name_id_format: str,
    attributes: Mapping[str, Sequence[object]],
    email_attribute: str = "",
) -> str:
    """The address an assertion names, lower-cased, or "": the firm's configured attribute
    first, then a NameID in email format, then a well-known email attribute."""
    wanted = [email_attribute.strip()] if email_attribute.strip() else []
    by_name = {name.strip().lower(): values for name, values in attributes.items()}
    for name in wanted:
        found = _first_address(by_name.get(name.lower(), ()))
        if found:
            return found
    if name_id_format == NAMEID_EMAIL and _ADDRESS.match(name_id.strip()):
        return name_id.strip().lower()
    for name in EMAIL_ATTRIBUTES:
        found = _first_address(by_name.get(name, ()))
        if found:
            return found
    return ""


def _first_address(values: Sequence[object]) -> str:
    for value in values:
        if isinstance(value, str) and _ADDRESS.match(value.strip()):
            return value.strip().lower()
    return ""


def domain_listed(email: str, domains: Sequence[str]) -> bool:
    """Only an address at one of the firm's domains signs in through its SAML IdP."""
    domain = domain_of(email)
    return bool(domain) and domain in domains


def display_name(attributes: Mapping[str, Sequence[object]], email: str) -> str:
    """A new user's name: displayName / name / givenName + sn, else the address's local part."""
    by_name = {name.strip().lower(): values for name, values in attributes.items()}

    def first(*names: str) -> str:
        for name in names:
            for value in by_name.get(name, ()):
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return ""

    full = first("displayname", "name", "http://schemas.microsoft.com/identity/claims/displayname")
    if not full:
        full = " ".join(p for p in (first("givenname"), first("sn", "surname")) if p)
    return (full or email.split("@")[0])[:200]


def group_names(attributes: Mapping[str, Sequence[object]], group_attribute: str) -> list[str]:
    """The values of the firm's group attribute (naming a new user's team)."""
    if not group_attribute.strip():
        return []
    by_name = {name.strip().lower(): values for name, values in attributes.items()}
    values = by_name.get(group_attribute.strip().lower(), ())
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_metadata_url(text: str) -> str:
    """The IdP's metadata URL: https (plain http only on this machine, for tests)."""
    url = text.strip()
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    )
    if not parts.hostname or not secure or parts.fragment or len(url) > 1000:
        raise ValueError("the metadata URL must be an https:// URL")
    return url
