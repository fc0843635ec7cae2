"""Access tokens for the adapters: the ``TokenSource`` protocol and an in-memory source that
runs the OAuth 2.0 ``refresh_token`` grant, mapping token-endpoint errors to the taxonomy."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from casecal.providers.errors import (
    AuthExpired,
    ConsentRequired,
    PermanentError,
    ProviderError,
    Transient,
)

#: AADSTS codes meaning "the grant is dead, sign in again".
AAD_EXPIRED = frozenset({50173, 70008, 700082, 50076, 50079})
#: AADSTS codes meaning "consent is missing" (user consent) ...
AAD_CONSENT = frozenset({65001})
#: ... and "only an administrator can consent".
AAD_ADMIN_CONSENT = frozenset({90093, 90094})
_AADSTS = re.compile(r"AADSTS(\d+)")
_EARLY_REFRESH_SECONDS = 60.0


class TokenSource(Protocol):
    """Hands out a bearer token; ``refresh`` replaces one the server refused (``failed``) and
    returns the new one. Concurrent refreshes of the same stale token run once."""

    async def access_token(self) -> str: ...

    async def refresh(self, failed: str | None = None) -> str: ...


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: float
    scopes: frozenset[str]


OnRefresh = Callable[[TokenSet], Awaitable[None]]


class RefreshingTokenSource:
    """Keeps one account's tokens in memory and refreshes them at ``token_url``.

    A rotated refresh token (Microsoft returns a new one on every use) replaces the old one,
    and ``on_refresh`` is told so the caller can persist it. ``required_scopes`` are checked
    against the ``scope`` the server echoes (Google lets users untick scopes)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        token_url: str | Callable[[], Awaitable[str]],
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        provider: str,
        access_token: str | None = None,
        expires_at: float = 0.0,
        scopes: Sequence[str] = (),
        required_scopes: Sequence[str] = (),
        on_refresh: OnRefresh | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._provider = provider
        self._access_token = access_token
        self._expires_at = expires_at
        self._scopes = tuple(scopes)
        self._required = frozenset(required_scopes)
        self._on_refresh = on_refresh
        self._clock = clock
        self._lock = asyncio.Lock()
        self.refresh_count = 0

    async def access_token(self) -> str:
        token = self._access_token
        if token is None or self._clock() >= self._expires_at - _EARLY_REFRESH_SECONDS:
            return await self.refresh(token)
        return token

    async def refresh(self, failed: str | None = None) -> str:
        async with self._lock:
            current = self._access_token
            if current is not None and current != failed:
                return current  # another task already replaced the refused token
            tokens = await self._grant()
            self._access_token = tokens.access_token
            self._refresh_token = tokens.refresh_token
            self._expires_at = tokens.expires_at
            self.refresh_count += 1
            if self._on_refresh is not None:
                await self._on_refresh(tokens)
            return tokens.access_token

    async def _grant(self) -> TokenSet:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        try:  # ``token_url`` may be looked up (a discovery document) only when it is needed
            url = self._token_url if isinstance(self._token_url, str) else await self._token_url()
            response = await self._client.post(url, data=form)
        except httpx.TransportError as exc:
            raise Transient(
                f"token endpoint unreachable: {exc!r}", provider=self._provider
            ) from exc
        body = _json(response)
        if response.status_code != 200:
            raise token_error(response.status_code, body, self._provider)
        granted = frozenset(str(body.get("scope", "")).split())
        missing = self._required - granted
        if "scope" in body and missing:
            raise ConsentRequired(
                f"scopes not granted: {' '.join(sorted(missing))}",
                provider=self._provider,
                status=response.status_code,
                reason="scope_not_granted",
            )
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or self._refresh_token),
            expires_at=self._clock() + float(body.get("expires_in", 3600)),
            scopes=granted,
        )


def token_error(status: int, body: dict[str, Any], provider: str) -> ProviderError:
    """Map a token-endpoint error answer to the taxonomy. Branches on ``error`` and the
    AADSTS codes (``error_codes``, else the codes quoted in ``error_description``)."""
    error = str(body.get("error", ""))
    description = str(body.get("error_description", ""))
    codes = {int(c) for c in body.get("error_codes", []) if str(c).isdigit()}
    codes |= {int(c) for c in _AADSTS.findall(description)}
    message = f"{error}: {description}" if description else error or f"HTTP {status}"
    if codes & AAD_ADMIN_CONSENT or error == "admin_policy_enforced":  # Workspace admin's block
        return ConsentRequired(message, provider=provider, status=status, reason=error, admin=True)
    if codes & AAD_CONSENT or error == "consent_required":
        return ConsentRequired(message, provider=provider, status=status, reason=error)
    if codes & AAD_EXPIRED or error in {"invalid_grant", "interaction_required"}:
        return AuthExpired(message, provider=provider, status=status, reason=error)
    if status >= 500 or error == "temporarily_unavailable":
        return Transient(message, provider=provider, status=status, reason=error)
    return PermanentError(message, provider=provider, status=status, reason=error)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
