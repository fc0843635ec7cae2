"""``RefreshingTokenSource``: the refresh_token grant, rotation, single-flight refresh, scope
checks, and the mapping of token-endpoint errors (invalid_grant, AADSTS codes)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from casecal.providers import (
    AuthExpired,
    ConsentRequired,
    PermanentError,
    ProviderError,
    RefreshingTokenSource,
    TokenSet,
    Transient,
)
from casecal.providers.tokens import token_error

CAL = "https://www.googleapis.com/auth/calendar.events"


class TokenEndpoint:
    """A token endpoint that rotates refresh tokens, or answers a fixed error."""

    def __init__(self, error: tuple[int, dict[str, Any]] | None = None, scope: str = CAL) -> None:
        self.error = error
        self.scope = scope
        self.forms: list[dict[str, str]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        await asyncio.sleep(0)
        if self.error:
            return httpx.Response(self.error[0], json=self.error[1])
        n = len(self.forms)
        return httpx.Response(
            200,
            json={
                "access_token": f"at-{n}",
                "refresh_token": f"rt-{n}",
                "expires_in": 3600,
                "scope": self.scope,
                "token_type": "Bearer",
            },
        )


def source(endpoint: TokenEndpoint, **kwargs: Any) -> RefreshingTokenSource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    defaults: dict[str, Any] = {
        "client_id": "cid",
        "client_secret": "secret",
        "refresh_token": "rt-0",
        "provider": "google",
    }
    return RefreshingTokenSource(client, "https://idp.test/token", **{**defaults, **kwargs})


async def test_first_access_token_runs_the_refresh_grant() -> None:
    endpoint = TokenEndpoint()
    tokens = source(endpoint, scopes=["a", "b"])
    assert await tokens.access_token() == "at-1"
    assert endpoint.forms == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "rt-0",
            "client_id": "cid",
            "client_secret": "secret",
            "scope": "a b",
        }
    ]
    assert await tokens.access_token() == "at-1", "a fresh token is reused"
    assert len(endpoint.forms) == 1


async def test_rotated_refresh_token_is_used_next_and_reported() -> None:
    endpoint = TokenEndpoint()
    seen: list[TokenSet] = []

    async def on_refresh(tokens: TokenSet) -> None:
        seen.append(tokens)

    tokens = source(endpoint, on_refresh=on_refresh)
    await tokens.refresh()
    await tokens.refresh("at-1")
    assert [f["refresh_token"] for f in endpoint.forms] == ["rt-0", "rt-1"]
    assert [t.refresh_token for t in seen] == ["rt-1", "rt-2"]


async def test_expired_access_token_is_refreshed_early() -> None:
    endpoint = TokenEndpoint()
    now = [1000.0]
    tokens = source(endpoint, access_token="old", expires_at=1030.0, clock=lambda: now[0])
    assert await tokens.access_token() == "at-1", "within 60 s of expiry counts as expired"


async def test_concurrent_refreshes_of_one_refused_token_run_once() -> None:
    endpoint = TokenEndpoint()
    tokens = source(endpoint, access_token="stale", expires_at=10**12)
    results = await asyncio.gather(*(tokens.refresh("stale") for _ in range(5)))
    assert results == ["at-1"] * 5
    assert len(endpoint.forms) == 1


async def test_missing_required_scope_is_consent_required() -> None:
    endpoint = TokenEndpoint(scope="openid email")
    tokens = source(endpoint, required_scopes=[CAL])
    with pytest.raises(ConsentRequired) as caught:
        await tokens.access_token()
    assert CAL in str(caught.value)


GOOGLE_DEAD = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def aad(code: int, error: str = "invalid_grant") -> dict[str, Any]:
    return {"error": error, "error_description": f"AADSTS{code}: text", "error_codes": [code]}


@pytest.mark.parametrize(
    ("status", "body", "expected", "admin"),
    [
        (400, GOOGLE_DEAD, AuthExpired, False),
        (400, aad(50173), AuthExpired, False),
        (400, aad(70008), AuthExpired, False),
        (400, aad(700082), AuthExpired, False),
        (400, aad(50076, "interaction_required"), AuthExpired, False),
        (400, aad(65001), ConsentRequired, False),
        (400, aad(90094), ConsentRequired, True),
        (
            400,
            {"error": "invalid_grant", "error_description": "AADSTS65001: no consent"},
            ConsentRequired,
            False,
        ),
        (401, {"error": "invalid_client"}, PermanentError, False),
        (503, {}, Transient, False),
    ],
)
async def test_token_endpoint_errors_map_to_the_taxonomy(
    status: int, body: dict[str, Any], expected: type[ProviderError], admin: bool
) -> None:
    tokens = source(TokenEndpoint(error=(status, body)), provider="microsoft")
    with pytest.raises(expected) as caught:
        await tokens.access_token()
    assert type(caught.value) is expected
    if isinstance(caught.value, ConsentRequired):
        assert caught.value.admin is admin


def test_token_error_keeps_the_reason_and_provider() -> None:
    error = token_error(400, GOOGLE_DEAD, "google")
    assert isinstance(error, AuthExpired)
    assert error.reason == "invalid_grant"
    assert error.provider == "google"
    assert "expired or revoked" in str(error)


async def test_unreachable_token_endpoint_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    tokens = RefreshingTokenSource(
        client,
        "https://idp.test/token",
        client_id="c",
        client_secret="s",
        refresh_token="r",
        provider="google",
    )
    with pytest.raises(Transient):
        await tokens.access_token()
