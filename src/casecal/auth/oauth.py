"""The OAuth 2.0 authorization-code flow with PKCE (S256) for Google and Microsoft: endpoints,
exact redirect URIs, authorization URLs, the code exchange (Authlib's httpx client) and the
small protocol facts callers branch on (granted Google scopes, AADSTS codes).

The identity provider's URLs (authorize, token, revocation) are built here and nowhere else.
They come from the provider's discovery document (``endpoints``), so CaseCal works with any
deployment that publishes a standard one; the conventional paths (``fixed_endpoints``) are
what is used when that document cannot be read."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from casecal.auth.idtoken import IdTokenInvalid, discovery_document
from casecal.config import Settings
from casecal.errors import CaseCalError
from casecal.store.tables import ProviderName

with warnings.catch_warnings():
    # Authlib 1.7+ nudges towards the "httpx2" fork at import; plain httpx is what we ship.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

GOOGLE_AUTH = "https://www.googleapis.com/auth/"
SHORT_GOOGLE_SCOPES = {
    "email": GOOGLE_AUTH + "userinfo.email",
    "profile": GOOGLE_AUTH + "userinfo.profile",
}
ADMIN_CONSENT_CODES = frozenset({90093, 90094, 65001})
"""AADSTS codes of an authorize redirect that mean "this tenant needs an admin's consent"."""
DEFAULT_TENANT = "organizations"
_AADSTS = re.compile(r"AADSTS(\d+)")


class TokenExchangeFailed(CaseCalError):
    """The token endpoint refused the authorization code (or could not be reached)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    discovery: str
    revocation: str | None = None
    """Where a grant is revoked; None where the provider has no such endpoint (Microsoft)."""


def discovery_url(settings: Settings, provider: ProviderName, tenant: str | None = None) -> str:
    """The provider's OpenID discovery document (per tenant on Microsoft)."""
    if provider is ProviderName.GOOGLE:
        return f"{settings.google_auth_base_url.rstrip('/')}/.well-known/openid-configuration"
    base = f"{settings.microsoft_auth_base_url.rstrip('/')}/{tenant or DEFAULT_TENANT}"
    return f"{base}/v2.0/.well-known/openid-configuration"


def admin_consent_endpoint(settings: Settings, tenant_id: str) -> str:
    """Entra ID's tenant-wide admin consent page (v2.0 ``adminconsent``; not in discovery)."""
    return f"{settings.microsoft_auth_base_url.rstrip('/')}/{tenant_id}/v2.0/adminconsent"


def fixed_endpoints(
    settings: Settings, provider: ProviderName, tenant: str | None = None
) -> Endpoints:
    """The endpoints at the providers' conventional paths (Google's and Entra ID's)."""
    discovery = discovery_url(settings, provider, tenant)
    if provider is ProviderName.GOOGLE:
        base = settings.google_auth_base_url.rstrip("/")
        return Endpoints(
            authorize=f"{base}/o/oauth2/v2/auth",
            token=settings.google_token_url,
            discovery=discovery,
            revocation=settings.google_token_url.rsplit("/", 1)[0] + "/revoke",
        )
    base = f"{settings.microsoft_auth_base_url.rstrip('/')}/{tenant or DEFAULT_TENANT}"
    return Endpoints(
        authorize=f"{base}/oauth2/v2.0/authorize",
        token=f"{base}/oauth2/v2.0/token",
        discovery=discovery,
    )


async def endpoints(
    http: httpx.AsyncClient,
    settings: Settings,
    provider: ProviderName,
    tenant: str | None = None,
) -> Endpoints:
    """The endpoints the provider's discovery document publishes (read once per client and
    kept for an hour); any it leaves out, or all when it cannot be read, at the conventional
    paths."""
    fixed = fixed_endpoints(settings, provider, tenant)
    try:
        document = await discovery_document(http, fixed.discovery)
    except IdTokenInvalid:
        return fixed

    def url(key: str, default: str | None) -> str | None:
        value = document.get(key)
        return (
            value
            if isinstance(value, str) and value.startswith(("https://", "http://"))
            else default
        )

    return Endpoints(
        authorize=url("authorization_endpoint", fixed.authorize) or fixed.authorize,
        token=url("token_endpoint", fixed.token) or fixed.token,
        discovery=fixed.discovery,
        revocation=url("revocation_endpoint", fixed.revocation),
    )


def redirect_uri(settings: Settings, provider: ProviderName) -> str:
    """The one redirect URI registered per provider (compared exactly by both)."""
    return f"{settings.base_url.rstrip('/')}/oauth/{provider.value}/callback"


def admin_consent_redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/oauth/microsoft/adminconsent/callback"


def google_install_redirect_uri(settings: Settings) -> str:
    """Where a Google Workspace admin returns after installing CaseCal for their domain."""
    return f"{settings.base_url.rstrip('/')}/oauth/google/install/callback"


def google_install_endpoint(settings: Settings) -> str:
    """The Workspace Marketplace's admin install for a whole domain."""
    return f"{settings.google_auth_base_url.rstrip('/')}/marketplace/install"


def client_credentials(settings: Settings, provider: ProviderName) -> tuple[str, str]:
    if provider is ProviderName.GOOGLE:
        return settings.google_client_id, settings.google_client_secret
    return settings.microsoft_client_id, settings.microsoft_client_secret


def scopes(settings: Settings, provider: ProviderName) -> list[str]:
    return list(
        settings.google_scopes if provider is ProviderName.GOOGLE else settings.microsoft_scopes
    )


def new_secret() -> str:
    """A random URL-safe value for state, nonce and PKCE verifier (48 characters)."""
    return generate_token(48)  # type: ignore[no-any-return]


def authorization_url(
    settings: Settings,
    provider: ProviderName,
    *,
    state: str,
    code_verifier: str,
    nonce: str,
    login_hint: str,
    tenant: str | None = None,
    authorize: str | None = None,
    installed_for: str = "",
) -> str:
    """The provider's authorize URL: code flow, PKCE S256, the exact redirect URI, a nonce and
    the case manager's address as ``login_hint``. Google also gets offline access and a forced
    consent screen (the only way to be sure of a refresh token), except for a Workspace domain
    where the admin installed the app for everyone (``installed_for``: that domain, sent as
    ``hd``): its users see no consent screen. ``authorize`` is the endpoint from
    ``endpoints``; without it, the conventional path."""
    extra: dict[str, str] = {
        "code_challenge": create_s256_code_challenge(code_verifier),
        "code_challenge_method": "S256",
        "nonce": nonce,
        "login_hint": login_hint,
    }
    if provider is ProviderName.GOOGLE and installed_for:
        extra |= {"access_type": "offline", "hd": installed_for}
    elif provider is ProviderName.GOOGLE:
        extra |= {"access_type": "offline", "prompt": "consent"}
    else:
        extra["response_mode"] = "query"
    client_id, _ = client_credentials(settings, provider)
    uri: str = prepare_grant_uri(
        authorize or fixed_endpoints(settings, provider, tenant).authorize,
        client_id=client_id,
        response_type="code",
        redirect_uri=redirect_uri(settings, provider),
        scope=" ".join(scopes(settings, provider)),
        state=state,
        **extra,
    )
    return uri


class _SharedClientOAuth2(AsyncOAuth2Client):  # type: ignore[misc]
    """Authlib's httpx OAuth 2.0 client, sending through the application's shared client (one
    connection pool, and the transports tests route to the emulators)."""

    def __init__(self, shared: httpx.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared = shared

    async def post(self, url: Any, **kwargs: Any) -> httpx.Response:
        return await self._shared.post(url, **kwargs)


async def exchange_code(
    http: httpx.AsyncClient,
    settings: Settings,
    provider: ProviderName,
    *,
    code: str,
    code_verifier: str,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Redeem an authorization code with its PKCE verifier; the token endpoint's answer."""
    client_id, client_secret = client_credentials(settings, provider)
    uri = redirect_uri(settings, provider)
    async with _SharedClientOAuth2(
        http,
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        redirect_uri=uri,
    ) as client:
        try:
            token = await client.fetch_token(
                (await endpoints(http, settings, provider, tenant)).token,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier or None,
                redirect_uri=uri,
            )
        except OAuthError as exc:
            raise TokenExchangeFailed(str(exc.error), first_line(exc.description or "")) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenExchangeFailed("unreachable", type(exc).__name__) from exc
    return dict(token)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def aadsts_codes(text: str) -> set[int]:
    return {int(code) for code in _AADSTS.findall(text)}


def needs_admin_consent(params: dict[str, str]) -> bool:
    """Whether a Microsoft error redirect says the tenant must consent first."""
    return bool(aadsts_codes(params.get("error_description", "")) & ADMIN_CONSENT_CODES)


def required_google_scopes(settings: Settings) -> set[str]:
    """The calendar scopes a Google grant must include (users can untick them)."""
    return {s for s in settings.google_scopes if s.startswith(GOOGLE_AUTH + "calendar")}


def missing_google_scopes(settings: Settings, granted: str) -> list[str]:
    have = {SHORT_GOOGLE_SCOPES.get(s, s) for s in granted.split()}
    return sorted(required_google_scopes(settings) - have)
