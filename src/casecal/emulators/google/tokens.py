"""OAuth state: registered clients, per-user grants, authorization codes (PKCE-bound,
single-use, short-lived), access tokens and refresh tokens with Google's expiry rules."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..keys import SigningKey
from .clock import Clock
from .errors import DEAD_TOKEN, OAuthError, invalid_grant
from .state import Account

AUTH = "https://www.googleapis.com/auth/"
SHORT_SCOPES = {"email": AUTH + "userinfo.email", "profile": AUTH + "userinfo.profile"}
CALENDAR_SUFFIXES = (
    "",
    ".readonly",
    ".events",
    ".events.readonly",
    ".events.owned",
    ".events.owned.readonly",
    ".calendarlist",
    ".calendarlist.readonly",
    ".calendars",
    ".calendars.readonly",
    ".app.created",
    ".events.freebusy",
    ".events.public.readonly",
    ".freebusy",
    ".settings.readonly",
    ".acls",
    ".acls.readonly",
)
KNOWN_SCOPES = {"openid", AUTH + "userinfo.email", AUTH + "userinfo.profile"} | {
    AUTH + "calendar" + suffix for suffix in CALENDAR_SUFFIXES
}
IDENTITY_SCOPES = {"openid", AUTH + "userinfo.email", AUTH + "userinfo.profile"}
CODE_LIFETIME = 300
ACCESS_LIFETIME = 3599
REFRESH_IDLE_LIMIT = 183 * 86400
TESTING_REFRESH_LIFETIME = 7 * 86400
REFRESH_CAP = 100
VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def normalize_scopes(raw: str) -> list[str] | None:
    """Full scope URLs in request order, or None if one is unknown."""
    out: list[str] = []
    for item in raw.split():
        scope = SHORT_SCOPES.get(item, item)
        if scope not in KNOWN_SCOPES:
            return None
        if scope not in out:
            out.append(scope)
    return out


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    testing: bool = False
    """Publishing status "Testing": refresh tokens die after 7 days (non-identity scopes)."""


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    email: str
    scopes: list[str]
    challenge: str | None
    method: str
    nonce: str | None
    expires: float
    offline: bool
    used: bool = False
    issued: list[str] = field(default_factory=list)


@dataclass
class Token:
    value: str
    email: str
    client_id: str
    scopes: list[str]
    issued: float
    expires: float | None
    refresh: bool
    last_used: float = 0.0
    revoked: bool = False


INSTALLED, WITHDRAWN = "installed", "withdrawn"
ADMIN_POLICY = (
    "Access to this app is blocked by your Google Workspace administrator: the app was removed "
    "from the domain's trusted apps."
)


class OAuthState:
    """Everything the OAuth endpoints remember."""

    def __init__(self, clock: Clock, key: SigningKey, accounts: dict[str, Account]) -> None:
        self.clock = clock
        self.accounts = accounts
        self.key = key
        self.clients: dict[str, Client] = {}
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.installs: dict[tuple[str, str], str] = {}
        """(Workspace domain, client id) -> ``installed`` or ``withdrawn`` (admin install)."""

    def install_state(self, email: str, client_id: str) -> str:
        """The app's domain-wide install for the account's Workspace domain, if any."""
        account = self.accounts.get(email)
        domain = account.hosted_domain.lower() if account is not None else ""
        return self.installs.get((domain, client_id), "") if domain else ""

    def authenticate(self, client_id: str | None, secret: str | None) -> Client:
        if not client_id:
            raise OAuthError(400, "invalid_request", "Could not determine client ID from request.")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if not secret or not secrets.compare_digest(secret, client.client_secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        return client

    def new_code(self, code: Code) -> str:
        value = "4/0" + secrets.token_urlsafe(32)
        self.codes[value] = code
        return value

    def exchange(
        self,
        client: Client,
        value: str,
        redirect_uri: str | None,
        verifier: str | None,
        issuer: str,
    ) -> dict[str, Any]:
        code = self.codes.get(value)
        if code is None or code.client_id != client.client_id:
            raise invalid_grant("Malformed auth code.")
        if code.used:
            for token in code.issued:
                self.tokens[token].revoked = True
            raise invalid_grant("Bad Request")
        if self.clock.now() > code.expires:
            raise invalid_grant("Bad Request")
        if redirect_uri != code.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        self._check_pkce(code, verifier)
        code.used = True
        answer = self.issue(
            code.email, client.client_id, code.scopes, issuer, code.offline, code.nonce
        )
        code.issued = [answer["access_token"]] + (
            [answer["refresh_token"]] if "refresh_token" in answer else []
        )
        return answer

    def _check_pkce(self, code: Code, verifier: str | None) -> None:
        if code.challenge is None:
            if verifier is not None:
                raise OAuthError(400, "invalid_request", "code_verifier or verifier is not needed.")
            return
        if not verifier:
            raise invalid_grant("Missing code verifier.")
        if not VERIFIER_RE.match(verifier):
            raise invalid_grant("Invalid code verifier.")
        if code.method == "S256":
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        else:
            expected = verifier
        if not secrets.compare_digest(expected, code.challenge):
            raise invalid_grant("Invalid code verifier.")

    def issue(
        self,
        email: str,
        client_id: str,
        scopes: list[str],
        issuer: str,
        offline: bool = True,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """Tokens as the token endpoint answers them (used by the code grant and tests)."""
        now = self.clock.now()
        self.grants.setdefault((email, client_id), set()).update(scopes)
        access = self._new(email, client_id, scopes, refresh=False, lifetime=ACCESS_LIFETIME)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_LIFETIME,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if offline:
            client = self.clients[client_id]
            testing = client.testing and not set(scopes) <= IDENTITY_SCOPES
            lifetime = TESTING_REFRESH_LIFETIME if testing else None
            answer["refresh_token"] = self._new(email, client_id, scopes, True, lifetime)
            self._enforce_cap(email, client_id)
            answer["refresh_token_expires_in"] = lifetime
            if lifetime is None:
                del answer["refresh_token_expires_in"]
        if "openid" in scopes:
            answer["id_token"] = self.id_token(email, client_id, scopes, issuer, nonce, access)
        self.tokens[access].last_used = now
        return answer

    def _new(
        self, email: str, client_id: str, scopes: list[str], refresh: bool, lifetime: float | None
    ) -> str:
        value = ("1//0" if refresh else "ya29.") + secrets.token_urlsafe(40)
        now = self.clock.now()
        expires = now + lifetime if lifetime is not None else None
        self.tokens[value] = Token(
            value, email, client_id, list(scopes), now, expires, refresh, now
        )
        return value

    def _enforce_cap(self, email: str, client_id: str) -> None:
        live = [
            t for t in self.tokens.values()
            if t.refresh and not t.revoked and t.email == email and t.client_id == client_id
        ]  # fmt: skip
        for token in sorted(live, key=lambda t: t.issued)[: max(0, len(live) - REFRESH_CAP)]:
            token.revoked = True

    def id_token(
        self,
        email: str,
        client_id: str,
        scopes: list[str],
        issuer: str,
        nonce: str | None,
        access: str,
    ) -> str:
        account = self.accounts[email]
        digest = hashlib.sha256(access.encode()).digest()[:16]
        claims: dict[str, Any] = {
            "iss": issuer,
            "azp": client_id,
            "aud": client_id,
            "sub": account.sub,
            "at_hash": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        }
        if AUTH + "userinfo.email" in scopes:
            claims.update(email=email, email_verified=account.email_verified)
        if account.hosted_domain:
            claims["hd"] = account.hosted_domain
        if AUTH + "userinfo.profile" in scopes:
            claims["name"] = account.name
        if nonce is not None:
            claims["nonce"] = nonce
        return self.key.sign(claims)

    def refresh(self, client: Client, value: str, issuer: str) -> dict[str, Any]:
        token = self.live(value, refresh=True)
        if token is None:
            raise invalid_grant(DEAD_TOKEN)
        if token.client_id != client.client_id:
            raise OAuthError(400, "unauthorized_client", "Unauthorized")
        if self.install_state(token.email, token.client_id) == WITHDRAWN:
            raise OAuthError(400, "admin_policy_enforced", ADMIN_POLICY)
        token.last_used = self.clock.now()
        access = self._new(token.email, token.client_id, token.scopes, False, ACCESS_LIFETIME)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_LIFETIME,
            "scope": " ".join(token.scopes),
            "token_type": "Bearer",
        }
        if "openid" in token.scopes:
            answer["id_token"] = self.id_token(
                token.email, token.client_id, token.scopes, issuer, None, access
            )
        return answer

    def live(self, value: str, *, refresh: bool) -> Token | None:
        token = self.tokens.get(value)
        if token is None or token.revoked or token.refresh != refresh:
            return None
        now = self.clock.now()
        if token.expires is not None and now >= token.expires:
            return None
        if refresh and now - token.last_used > REFRESH_IDLE_LIMIT:
            return None
        return token

    def revoke(self, value: str) -> bool:
        """Revoke the whole grant the token belongs to (access and refresh tokens alike)."""
        token = self.tokens.get(value)
        if token is None or token.revoked:
            return False
        for other in self.tokens.values():
            if other.email == token.email and other.client_id == token.client_id:
                other.revoked = True
        self.grants.pop((token.email, token.client_id), None)
        return True

    def expire_access_tokens(self, email: str | None = None, client_id: str | None = None) -> None:
        now = self.clock.now()
        for token in self.tokens.values():
            if client_id is not None and token.client_id != client_id:
                continue
            if not token.refresh and (email is None or token.email == email):
                token.expires = min(token.expires or now, now)
