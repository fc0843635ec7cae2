"""OAuth security: a replayed state, a state from another browser, an expired state, a
tampered id_token, an id_token for another audience and a missing PKCE verifier are each
refused with a clear message, and no connection or token is stored."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
from connect_helpers import connections, no_tokens_kept
from connect_world import GOOGLE, MICROSOFT, World
from sqlalchemy import update

from casecal.services.connect import complete_connect, start_connect
from casecal.store.tables import OAuthState, ProviderName, utcnow


class TamperingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and rewrites the id_token of token answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: Callable[[str], str]) -> None:
        self.inner = inner
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/token"):
            return response
        body = json.loads(await response.aread())
        if "id_token" in body:
            body["id_token"] = self.rewrite(body["id_token"])
        return httpx.Response(response.status_code, json=body)


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def _start(world: World, who: str = "bob") -> tuple[str, dict[str, str]]:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session,
            world.settings,
            world.actor(who),
            ProviderName.GOOGLE,
            browser_binding=world.binding(who),
        )
    return url, await world.provider_redirect(url)


async def _complete(
    world: World, params: dict[str, str], binding: str, http: httpx.AsyncClient | None = None
) -> tuple[str, str]:
    async with world.app.state.sessionmaker() as session:
        outcome = await complete_connect(
            session,
            world.settings,
            http or world.http,
            world.actor("bob"),
            ProviderName.GOOGLE,
            params,
            browser_binding=binding,
        )
    return outcome.kind, outcome.message


async def _nothing_connected(world: World) -> bool:
    return no_tokens_kept(await connections(world.app.state.sessionmaker, world.users["bob"].id))


async def test_replayed_state_is_refused(world: World) -> None:
    _, params = await _start(world)
    assert (await _complete(world, params, world.binding("bob")))[0] == "choose_calendar"
    kind, message = await _complete(world, params, world.binding("bob"))
    assert kind == "refused"
    assert "already used" in message


async def test_state_from_another_browser_is_refused(world: World) -> None:
    _, params = await _start(world)
    kind, message = await _complete(world, params, "another-browser-binding")
    assert kind == "refused"
    assert "another browser" in message
    assert await _nothing_connected(world)
    page = await world.callback("ann", "/oauth/google/callback", params)  # ann's browser
    assert page.status_code == 400
    assert "another browser" in page.text


async def test_expired_state_is_refused(world: World) -> None:
    _, params = await _start(world)
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    kind, message = await _complete(world, params, world.binding("bob"))
    assert kind == "refused"
    assert "expired" in message
    assert await _nothing_connected(world)


async def test_unknown_state_is_refused(world: World) -> None:
    _, params = await _start(world)
    kind, message = await _complete(world, params | {"state": "forged"}, world.binding("bob"))
    assert kind == "refused"
    assert "not one CaseCal started" in message


def _client(world: World, rewrite: Callable[[str], str]) -> httpx.AsyncClient:
    google = TamperingTransport(httpx.ASGITransport(app=world.google.app), rewrite)
    return httpx.AsyncClient(
        mounts={GOOGLE: google, MICROSOFT: httpx.ASGITransport(app=world.microsoft.app)}
    )


async def test_tampered_id_token_is_refused(world: World) -> None:
    def tamper(token: str) -> str:
        head, payload, signature = token.split(".")
        claims = _claims(token) | {"email": "bob@example.org", "sub": "someone-else"}
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        assert forged != payload
        return f"{head}.{forged}.{signature}"

    _, params = await _start(world)
    async with _client(world, tamper) as http:
        kind, message = await _complete(world, params, world.binding("bob"), http)
    assert kind == "refused"
    assert "security check" in message
    assert "signature" in message
    assert await _nothing_connected(world)


async def test_id_token_for_another_audience_is_refused(world: World) -> None:
    def other_audience(token: str) -> str:
        return world.google.key.sign(_claims(token) | {"aud": "another-client"})

    _, params = await _start(world)
    async with _client(world, other_audience) as http:
        kind, message = await _complete(world, params, world.binding("bob"), http)
    assert kind == "refused"
    assert "security check" in message
    assert "aud" in message
    assert await _nothing_connected(world)


async def test_missing_pkce_verifier_is_refused_by_the_provider(world: World) -> None:
    url, params = await _start(world)
    assert dict(parse_qsl(urlsplit(url).query))["code_challenge_method"] == "S256"
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(update(OAuthState).values(code_verifier=""))
    kind, message = await _complete(world, params, world.binding("bob"))
    assert kind == "refused"
    assert "invalid_grant" in message
    assert "verifier" in message
    assert world.google.log.count("POST", "/token") == 1
    assert await _nothing_connected(world)
