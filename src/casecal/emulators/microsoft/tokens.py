"""The token endpoint's logic without HTTP: client authentication, code redemption with PKCE
(S256), refresh with Entra's AADSTS refusals, and issuing access, refresh and id tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from casecal.emulators.keys import SigningKey
from casecal.emulators.microsoft import consent
from casecal.emulators.microsoft.consent import IdentityError
from casecal.emulators.microsoft.state import (
    AccessToken,
    AppRegistration,
    MicrosoftState,
    RefreshToken,
    User,
)

CODE_LIFETIME = timedelta(minutes=10)
REFRESH_INACTIVITY = timedelta(days=90)


def authenticate_client(
    state: MicrosoftState, client_id: str | None, secret: str | None
) -> AppRegistration:
    app = state.apps.get(client_id or "")
    if app is None:
        raise IdentityError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory.",
        )
    if app.client_secret is not None and not hmac.compare_digest(
        (secret or "").encode(), app.client_secret.encode()
    ):
        raise IdentityError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in "
            "the request is the client secret value, not the client secret ID.",
            status=401,
        )
    return app


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def redeem_code(
    state: MicrosoftState,
    app: AppRegistration,
    code: str | None,
    redirect_uri: str | None,
    verifier: str | None,
    tenant_key: str,
) -> tuple[User, list[str], str | None]:
    """Validate a code (single use, bound to client, redirect_uri and the PKCE challenge)."""
    grant = state.codes.get(code or "")
    if grant is None:
        raise IdentityError(
            "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
        )
    if grant.used:
        raise IdentityError(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry "
            "with a new valid code or use an existing refresh token.",
        )
    grant.used = True
    if grant.client_id != app.client_id:
        raise IdentityError(
            "invalid_grant",
            70000,
            "The provided value for the 'code' parameter is not valid: it "
            "was issued to another client.",
        )
    if grant.redirect_uri != redirect_uri:
        raise IdentityError(
            "invalid_grant",
            70000,
            "The provided value for 'redirect_uri' does not match the value "
            "used in the authorization request.",
        )
    if grant.expires_at <= state.clock.now():
        raise IdentityError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due "
            "to inactivity. Send a new interactive authorization request.",
        )
    if not verifier:
        raise IdentityError(
            "invalid_grant",
            501491,
            "The request body must contain the 'code_verifier' parameter "
            "because the authorization request used PKCE.",
        )
    if not hmac.compare_digest(s256(verifier), grant.code_challenge):
        raise IdentityError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in "
            "the authorization request.",
        )
    user = state.users[grant.oid]
    if not consent.tenant_matches(state, tenant_key, user):
        raise IdentityError(
            "invalid_grant",
            50020,
            "The user account does not exist in the tenant of this endpoint.",
        )
    still_missing = consent.missing(state, user, app.client_id, grant.scopes)
    if still_missing:
        raise consent.consent_missing_error(app.client_id, still_missing)
    return user, grant.scopes, grant.nonce


def use_refresh_token(
    state: MicrosoftState, app: AppRegistration, token: str | None, scope: str | None
) -> tuple[User, list[str]]:
    stored = state.refresh_tokens.get(token or "")
    if stored is None:
        raise IdentityError(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the refresh token is not valid.",
        )
    if stored.client_id != app.client_id:
        raise IdentityError(
            "invalid_grant", 70000, "The refresh token was issued to a different client."
        )
    now = state.clock.now()
    if stored.revoked:
        raise IdentityError(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh "
            "auth token is needed. The user might have changed or reset their "
            "password.",
            suberror="bad_token",
        )
    if stored.forced_error == "expired":
        raise IdentityError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired. "
            "Send a new interactive authorization request for this user and "
            "resource.",
            suberror="bad_token",
        )
    if stored.forced_error == "inactive" or now - stored.last_used > REFRESH_INACTIVITY:
        raise IdentityError(
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity. The token was "
            "issued on a date and was inactive for 90.00:00:00.",
            suberror="bad_token",
        )
    scopes = (consent.parse_scopes(scope)[0] if scope else []) or list(stored.scopes)
    user = state.users[stored.oid]
    absent = consent.missing(state, user, app.client_id, scopes)
    if absent:
        raise consent.consent_missing_error(app.client_id, absent)
    stored.last_used = now
    return user, scopes


def issue(
    state: MicrosoftState,
    keys: SigningKey,
    base: str,
    user: User,
    client_id: str,
    scopes: list[str],
    oidc: list[str],
    nonce: str | None = None,
) -> dict[str, Any]:
    """A token response; an id_token when 'openid' was asked for, a refresh token when
    'offline_access' was."""
    now = state.clock.now()
    lifetime = state.ids.rng.randint(3600, 5399)
    access = AccessToken(
        "eyJ0eXAi.ms." + secrets.token_urlsafe(32),
        client_id,
        user.oid,
        list(scopes),
        now + timedelta(seconds=lifetime),
    )
    state.access_tokens[access.token] = access
    names = [consent.GRAPH + s for s in scopes] + [s for s in oidc if s != "offline_access"]
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(names),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access.token,
    }
    if "offline_access" in oidc or "offline_access" in scopes:
        refresh = RefreshToken(
            "0.AR." + secrets.token_urlsafe(48), client_id, user.oid, list(scopes), now
        )
        state.refresh_tokens[refresh.token] = refresh
        body["refresh_token"] = refresh.token
    if "openid" in oidc:
        body["id_token"] = id_token(keys, base, user, client_id, nonce)
    return body


def id_token(keys: SigningKey, base: str, user: User, client_id: str, nonce: str | None) -> str:
    pairwise = hashlib.sha256(f"{user.oid}:{client_id}".encode()).digest()
    claims: dict[str, Any] = {
        "ver": "2.0",
        "iss": f"{base}{user.tenant_id}/v2.0",
        "aud": client_id,
        "sub": base64.urlsafe_b64encode(pairwise).decode().rstrip("="),
        "oid": user.oid,
        "tid": user.tenant_id,
        "preferred_username": user.upn,
        "email": user.mail,
        "name": user.name,
    }
    if user.groups:
        claims["groups"] = list(user.groups)
    if user.email_verified_optional:
        claims["xms_edov"] = True
    if nonce:
        claims["nonce"] = nonce
    return keys.sign(claims)
