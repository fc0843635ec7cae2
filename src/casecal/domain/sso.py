"""Single sign-on rules that need no I/O: the kinds of identity provider, how the admin's lists
(domains, tenants) are read, who may still use a local password, and the team a group claim
names."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MSA_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
"""Entra ID's tenant of personal Microsoft accounts: never a firm's."""


class SsoKind(enum.StrEnum):
    ENTRA = "entra"
    GOOGLE = "google"
    OIDC = "oidc"
    SAML = "saml"

    @property
    def label(self) -> str:
        return {
            SsoKind.ENTRA: "Microsoft Entra ID",
            SsoKind.GOOGLE: "Google Workspace",
            SsoKind.OIDC: "Another OpenID Connect provider (Okta, Ping, Keycloak...)",
            SsoKind.SAML: "SAML 2.0 (ADFS, Okta, Ping, Shibboleth...)",
        }[self]


class InvalidSsoSetting(ValueError):
    """A value the admin typed that cannot be used; the message says which and why."""


def _items(text: str) -> list[str]:
    return [p.strip().lower() for p in re.split(r"[\s,;]+", text) if p.strip()]


def parse_domains(text: str) -> tuple[str, ...]:
    """Email domains, one per line or comma-separated, lower-cased, each checked."""
    found: list[str] = []
    for item in _items(text):
        domain = item.removeprefix("@")
        if not _DOMAIN.match(domain):
            raise InvalidSsoSetting(f"{item!r} is not an email domain (like example.com)")
        if domain not in found:
            found.append(domain)
    return tuple(found)


def parse_tenants(text: str) -> tuple[str, ...]:
    """Entra ID tenant ids (GUIDs); the personal-accounts tenant is refused."""
    found: list[str] = []
    for item in _items(text):
        if not _TENANT.match(item):
            raise InvalidSsoSetting(f"{item!r} is not a tenant id (a GUID)")
        if item == MSA_TENANT:
            raise InvalidSsoSetting("the personal Microsoft accounts tenant cannot be a firm's")
        if item not in found:
            found.append(item)
    return tuple(found)


def check_issuer(text: str) -> str:
    """A generic provider's issuer URL: https, or http on this machine only (tests)."""
    issuer = text.strip()
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    )
    if not parts.hostname or not secure or parts.query or parts.fragment:
        raise InvalidSsoSetting("the issuer must be an https:// URL without query or fragment")
    return issuer


def discovery_url_of(issuer: str) -> str:
    """OpenID Connect Discovery: the issuer without a trailing slash, then the well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def domain_of(email: str) -> str:
    local, at, domain = email.strip().lower().rpartition("@")
    return domain if at and local and domain else ""


def password_allowed(*, require_sso: bool, is_break_glass: bool) -> bool:
    """A user of a firm that requires SSO signs in only through it, except its break-glass
    admin."""
    return not require_sso or is_break_glass


def group_values(claim: object) -> list[str]:
    """The values of a group claim: a string, or a list of strings."""
    if isinstance(claim, str):
        return [claim] if claim.strip() else []
    if isinstance(claim, list | tuple):
        return [str(v) for v in claim if isinstance(v, str | int) and str(v).strip()]
    return []


def team_for_groups(groups: Iterable[str], teams: Mapping[str, uuid.UUID]) -> uuid.UUID | None:
    """The team whose name (case-insensitive) is the first group value that names one."""
    by_name = {name.strip().lower(): team_id for name, team_id in teams.items()}
    for group in groups:
        team_id = by_name.get(group.strip().lower())
        if team_id is not None:
            return team_id
    return None
