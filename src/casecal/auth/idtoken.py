"""id_token validation with joserfc against the provider's own discovery document and JWKS:
RS256 signature, issuer (Microsoft: the tenant's issuer from the ``tid`` claim), audience,
expiry and nonce."""

from __future__ import annotations

import re
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from casecal.errors import CaseCalError
from casecal.store.tables import ProviderName

LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]
_TENANT_ID = re.compile(r"^[0-9a-fA-F-]{36}$")


class IdTokenInvalid(CaseCalError):
    """The id_token failed validation; ``reason`` says which check."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the id_token failed validation: {reason}")
        self.reason = reason


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise IdTokenInvalid(f"cannot read {url} ({type(exc).__name__})") from exc
    if not isinstance(body, dict):
        raise IdTokenInvalid(f"{url} did not answer a JSON object")
    return body


DISCOVERY_TTL = 3600.0
"""Seconds a discovery document is kept (providers change theirs rarely; keys are not kept)."""
_discovered: weakref.WeakKeyDictionary[httpx.AsyncClient, dict[str, tuple[float, dict[str, Any]]]]
_discovered = weakref.WeakKeyDictionary()


async def discovery_document(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The provider's discovery document, kept per HTTP client (the process's shared one) for
    ``DISCOVERY_TTL``: the id_token check, the endpoints and a tenant lookup all read it."""
    kept = _discovered.setdefault(http, {})
    now = time.monotonic()
    hit = kept.get(url)
    if hit is not None and hit[0] > now:
        return hit[1]
    document = await _get_json(http, url)
    kept[url] = (now + DISCOVERY_TTL, document)
    return document


def expected_issuer(template: str, claims: dict[str, Any]) -> str:
    """The issuer to require. Microsoft's multi-tenant discovery documents publish the issuer
    with a ``{tenantid}`` placeholder: the token's own ``tid`` fills it in."""
    if "{tenantid}" not in template:
        return template
    tid = claims.get("tid")
    if not isinstance(tid, str) or not _TENANT_ID.match(tid):
        raise IdTokenInvalid("no valid tid claim")
    return template.replace("{tenantid}", tid)


async def validate_id_token(
    http: httpx.AsyncClient,
    id_token: str,
    *,
    discovery_url: str,
    client_id: str,
    nonce: str,
) -> dict[str, Any]:
    """The verified claims of ``id_token``, or ``IdTokenInvalid``."""
    if not id_token:
        raise IdTokenInvalid("the token endpoint sent no id_token")
    discovery = await discovery_document(http, discovery_url)
    keys = await _get_json(http, str(discovery.get("jwks_uri", "")))
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except (JoseError, ValueError, KeyError) as exc:
        raise IdTokenInvalid(f"bad signature or format ({type(exc).__name__})") from exc
    claims = dict(token.claims)
    issuer = expected_issuer(str(discovery.get("issuer", "")), claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise IdTokenInvalid(f"{type(exc).__name__}: {exc}") from exc
    return claims


_TRUE = (True, "true", "True", 1, "1")


@dataclass(frozen=True)
class AccountClaims:
    """Who authorised, from verified id_token claims. ``subject`` is Google ``sub`` or
    Microsoft ``oid`` (with ``tenant_id``, the ``tid``): the identity once a connection is
    bound. ``email`` counts only when ``email_verified``: Google's ``email`` with
    ``email_verified`` present and true; Microsoft's ``preferred_username``, or its ``email``
    when the ``xms_edov`` optional claim is true. A Microsoft ``email`` without ``xms_edov``
    comes with ``domain_to_check``: it counts only if the token's tenant has verified that
    domain (the caller looks it up)."""

    email: str
    subject: str
    tenant_id: str | None = None
    name: str = ""
    email_verified: bool = False
    domain_to_check: str = ""


def _address(value: Any) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    local, at, domain = text.partition("@")
    return text if at and local and domain else ""


def account_claims(provider: ProviderName, claims: dict[str, Any]) -> AccountClaims:
    """The account behind verified ``claims``; a bare ``email`` claim is never taken as
    verified (Entra ID lets a tenant's admin set any address: the "nOAuth" takeover)."""
    name = str(claims.get("name", ""))
    if provider is ProviderName.GOOGLE:
        return AccountClaims(
            email=_address(claims.get("email")),
            subject=str(claims.get("sub", "")),
            name=name,
            email_verified=claims.get("email_verified") in (True, "true"),
        )
    tenant = str(claims["tid"]).lower() if claims.get("tid") else None
    subject = str(claims.get("oid", ""))
    username = _address(claims.get("preferred_username"))
    if username:
        return AccountClaims(username, subject, tenant, name, email_verified=True)
    email = _address(claims.get("email"))
    if email and claims.get("xms_edov") in _TRUE:
        return AccountClaims(email, subject, tenant, name, email_verified=True)
    domain = email.rpartition("@")[2]
    return AccountClaims(email, subject, tenant, name, domain_to_check=domain)
