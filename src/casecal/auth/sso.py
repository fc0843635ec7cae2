"""SSO sign-in with OpenID Connect, the protocol half: the provider's endpoints from its
discovery document, the authorize URL (code flow, PKCE S256, nonce), single-use browser-bound
requests, the code exchange (Authlib) and the id_token (joserfc, ``auth.idtoken``) with the
firm's rules: Entra ID's ``tid`` listed, Google's ``hd`` listed, a verified email."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.idtoken import (
    IdTokenInvalid,
    account_claims,
    discovery_document,
    validate_id_token,
)
from casecal.auth.oauth import _SharedClientOAuth2, first_line, new_secret
from casecal.config import Settings
from casecal.domain.sso import SsoKind, discovery_url_of, domain_of, group_values
from casecal.errors import DomainError
from casecal.store.sso_tables import SsoRequest
from casecal.store.tables import ProviderName, utcnow

REQUEST_LIFETIME = timedelta(minutes=10)
SCOPES = "openid email profile"
AGAIN = " Nothing was signed in; start again from the sign-in page."


class SsoRefused(DomainError):
    """An SSO sign-in CaseCal will not accept; ``reason`` is a short key for the audit log."""

    status_code = 403
    title = "Sign-in refused"

    def __init__(self, reason: str, message: str, firm_id: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.firm_id = firm_id
        """The firm of the request, when the refusal concerns a known one."""


@dataclass(frozen=True)
class Idp:
    """What the flow needs of a firm's identity provider."""

    kind: SsoKind
    discovery_url: str
    client_id: str
    client_secret: str
    issuer: str = ""
    """The configured issuer (generic OIDC): the discovery document must name exactly it."""
    tenant_ids: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    group_claim: str = ""


def idp_discovery_url(
    settings: Settings, kind: SsoKind, *, issuer: str = "", tenant_ids: tuple[str, ...] = ()
) -> str:
    """Entra ID: the one listed tenant's document, or ``organizations`` (templated issuer,
    the token's ``tid`` checked against the list); Google: Google's; OIDC: the issuer's."""
    if kind is SsoKind.ENTRA:
        tenant = tenant_ids[0] if len(tenant_ids) == 1 else "organizations"
        base = settings.microsoft_auth_base_url.rstrip("/")
        return f"{base}/{tenant}/v2.0/.well-known/openid-configuration"
    if kind is SsoKind.GOOGLE:
        return f"{settings.google_auth_base_url.rstrip('/')}/.well-known/openid-configuration"
    return discovery_url_of(issuer)


def redirect_uri(settings: Settings) -> str:
    """The one redirect URI every firm registers at its identity provider."""
    return f"{settings.base_url.rstrip('/')}/sso/callback"


@dataclass(frozen=True)
class ProviderEndpoints:
    authorize: str
    token: str
    auth_methods: tuple[str, ...] = field(default=())


async def provider_endpoints(http: httpx.AsyncClient, idp: Idp) -> ProviderEndpoints:
    """Authorize and token endpoints from the discovery document; a generic provider's document
    must name the configured issuer exactly."""
    try:
        document = await discovery_document(http, idp.discovery_url)
    except IdTokenInvalid as exc:
        raise SsoRefused(
            "discovery",
            "Your firm's identity provider could not be reached (its discovery document did "
            "not load). Try again later, or ask your firm admin to check the issuer URL.",
        ) from exc
    if idp.kind is SsoKind.OIDC and document.get("issuer") != idp.issuer:
        raise SsoRefused(
            "issuer",
            "Your firm's identity provider names another issuer than the one configured in "
            "CaseCal. Ask your firm admin to check the issuer URL." + AGAIN,
        )
    authorize, token = document.get("authorization_endpoint"), document.get("token_endpoint")
    if not isinstance(authorize, str) or not isinstance(token, str):
        raise SsoRefused("discovery", "Your firm's identity provider publishes no endpoints.")
    methods = document.get("token_endpoint_auth_methods_supported")
    found = tuple(m for m in methods if isinstance(m, str)) if isinstance(methods, list) else ()
    return ProviderEndpoints(authorize, token, found)


def authorization_url(
    idp: Idp,
    authorize: str,
    settings: Settings,
    *,
    state: str,
    code_verifier: str,
    nonce: str,
    login_hint: str,
) -> str:
    """Code flow with PKCE S256 and a nonce; Google gets ``hd`` (a hint only: the claim is
    what is checked), Entra ID ``response_mode=query``."""
    extra: dict[str, str] = {
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
        "nonce": nonce,
        "login_hint": login_hint,
    }
    if idp.kind is SsoKind.GOOGLE and len(idp.domains) == 1:
        extra["hd"] = idp.domains[0]
    if idp.kind is SsoKind.ENTRA:
        extra["response_mode"] = "query"
    uri: str = prepare_grant_uri(
        authorize,
        client_id=idp.client_id,
        response_type="code",
        redirect_uri=redirect_uri(settings),
        scope=SCOPES,
        state=state,
        **extra,
    )
    return uri


def browser_binding(cookie: str) -> str:
    """The binding of a not yet signed-in browser: SHA-256 (hex) of its SSO cookie."""
    return hashlib.sha256(cookie.encode()).hexdigest()


async def create_request(
    session: AsyncSession, firm_id: uuid.UUID, binding: str, next_url: str
) -> SsoRequest:
    """A new request (flushed); requests expired an hour ago or more are removed."""
    now = utcnow()
    await session.execute(
        delete(SsoRequest).where(SsoRequest.expires_at <= now - timedelta(hours=1))
    )
    row = SsoRequest(
        state=new_secret(),
        firm_id=firm_id,
        browser_binding=binding,
        code_verifier=new_secret(),
        nonce=new_secret(),
        next_url=next_url,
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(row)
    await session.flush()
    return row


async def consume_request(session: AsyncSession, value: str, binding: str) -> SsoRequest:
    """Check and use up a sign-in request; the "used" mark is committed at once."""
    row = await session.get(SsoRequest, value) if value else None
    if row is None:
        raise SsoRefused("state_unknown", "This sign-in answer is not one CaseCal started." + AGAIN)
    replayed = "This sign-in answer was already used once." + AGAIN
    if row.used_at is not None:
        raise SsoRefused("state_replayed", replayed, row.firm_id)
    if not binding or not hmac.compare_digest(row.browser_binding, binding):
        raise SsoRefused(
            "state_other_browser",
            "This sign-in was started in another browser." + AGAIN,
            row.firm_id,
        )
    now = utcnow()
    if row.expires_at <= now:
        raise SsoRefused(
            "state_expired", "This sign-in took longer than 10 minutes." + AGAIN, row.firm_id
        )
    result = await session.execute(
        update(SsoRequest)
        .where(SsoRequest.state == value, SsoRequest.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SsoRefused("state_replayed", replayed, row.firm_id)
    await session.commit()
    await session.refresh(row)
    return row


async def exchange_code(
    http: httpx.AsyncClient,
    settings: Settings,
    idp: Idp,
    endpoints: ProviderEndpoints,
    *,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """Redeem the code with its PKCE verifier (client_secret_post, or basic where the
    provider lists only that)."""
    method = (
        "client_secret_basic"
        if endpoints.auth_methods and "client_secret_post" not in endpoints.auth_methods
        else "client_secret_post"
    )
    uri = redirect_uri(settings)
    async with _SharedClientOAuth2(
        http,
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        token_endpoint_auth_method=method,
        redirect_uri=uri,
    ) as client:
        try:
            token = await client.fetch_token(
                endpoints.token,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=uri,
            )
        except OAuthError as exc:
            detail = first_line(exc.description or "") or str(exc.error)
            raise SsoRefused(
                "token_exchange", f"Your firm's identity provider refused: {detail}." + AGAIN
            ) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused(
                "token_exchange", "Your firm's identity provider could not be reached." + AGAIN
            ) from exc
    return dict(token)


@dataclass(frozen=True)
class SignInClaims:
    """Who signed in, from a validated id_token: ``issuer`` (Entra ID: with the ``tid``) and
    ``subject`` (Entra ID's ``oid``) are the identity; ``email`` counts only when verified.
    ``domain_to_check``: an Entra ``email`` that counts if the token's tenant verified it."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...] = ()
    tenant_id: str | None = None
    domain_to_check: str = ""


_REASONS = {
    "Invalid claim: 'iss'": ("issuer", "it was issued by another issuer"),
    "Invalid claim: 'aud'": ("audience", "it was issued to another client"),
    "Invalid claim: 'nonce'": ("nonce", "its nonce is not this sign-in's"),
    "ExpiredTokenError": ("expired", "it has expired"),
}


def _refusal(exc: IdTokenInvalid) -> SsoRefused:
    reason, why = next(
        (found for marker, found in _REASONS.items() if marker in exc.reason),
        ("id_token", f"it failed a check ({exc.reason})"),
    )
    return SsoRefused(reason, f"The identity provider's answer was refused: {why}." + AGAIN)


async def verified_claims(
    http: httpx.AsyncClient, idp: Idp, id_token: str, nonce: str
) -> SignInClaims:
    """Validate the id_token (signature by a key of the provider's JWKS, issuer, audience,
    expiry, nonce), then the firm's rules for its kind of provider."""
    try:
        claims = await validate_id_token(
            http, id_token, discovery_url=idp.discovery_url, client_id=idp.client_id, nonce=nonce
        )
    except IdTokenInvalid as exc:
        raise _refusal(exc) from exc
    audiences = claims.get("aud")
    if isinstance(audiences, list) and len(audiences) > 1 and claims.get("azp") != idp.client_id:
        raise SsoRefused("audience", "The identity provider's answer names another client." + AGAIN)
    groups = tuple(group_values(claims.get(idp.group_claim))) if idp.group_claim else ()
    name = str(claims.get("name", ""))
    if idp.kind is SsoKind.ENTRA:
        return _entra(idp, claims, name, groups)
    email = str(claims.get("email", "")).strip().lower()
    verified = claims.get("email_verified") in (True, "true") and bool(domain_of(email))
    if idp.kind is SsoKind.GOOGLE:
        hosted = str(claims.get("hd", "")).lower()
        if not hosted or hosted not in idp.domains:
            raise SsoRefused(
                "hosted_domain",
                f"The Google account {email or '(unnamed)'} is not one of your firm's Google "
                "Workspace accounts." + AGAIN,
            )
        who = account_claims(ProviderName.GOOGLE, claims)
        email, verified = who.email, who.email_verified
    subject = str(claims.get("sub", ""))
    if not subject:
        raise SsoRefused("id_token", "The identity provider's answer names no subject." + AGAIN)
    issuer = "google" if idp.kind is SsoKind.GOOGLE else idp.issuer
    return SignInClaims(issuer, subject, email, verified, name, groups)


def _entra(idp: Idp, claims: dict[str, Any], name: str, groups: tuple[str, ...]) -> SignInClaims:
    tenant = str(claims.get("tid", "")).lower()
    if tenant not in idp.tenant_ids:
        raise SsoRefused(
            "tenant",
            "That Microsoft account belongs to a directory (tenant) your firm has not listed "
            "for CaseCal." + AGAIN,
        )
    who = account_claims(ProviderName.MICROSOFT, claims)
    if not who.subject:
        raise SsoRefused("id_token", "The identity provider's answer names no oid." + AGAIN)
    return SignInClaims(
        issuer=f"entra:{tenant}",
        subject=who.subject,
        email=who.email,
        email_verified=who.email_verified,
        name=name,
        groups=groups,
        tenant_id=tenant,
        domain_to_check=who.domain_to_check,
    )
