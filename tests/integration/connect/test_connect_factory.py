"""One way to build a connection's adapter: the connect flow's calendar listing is built by the
engine's factory (it draws on the firm's request budget), and the identity provider's
endpoints (authorize, token, revocation) come from its discovery document, wherever that
deployment serves them."""

from __future__ import annotations

import json

import httpx
from connect_helpers import connections
from connect_world import GOOGLE, MICROSOFT, World

from casecal.providers.errors import ProviderError
from casecal.services.connect import disconnect, start_connect, writable_calendars
from casecal.store.tables import Connection, ProviderName
from casecal.sync.connector import ConnectionProviders


async def _connect_google(world: World, http: httpx.AsyncClient | None = None) -> Connection:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session,
            world.settings,
            world.actor("bob"),
            ProviderName.GOOGLE,
            browser_binding=world.binding("bob"),
            http=http,
        )
    response = await world.callback(
        "bob", "/oauth/google/callback", await world.provider_redirect(url)
    )
    assert response.status_code == 303, response.text
    [conn] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    return conn


async def test_listing_calendars_during_connect_draws_on_the_firms_request_budget(
    world: World,
) -> None:
    settings = world.settings.model_copy(update={"firm_requests_per_minute": 50})
    providers = ConnectionProviders(settings, world.app.state.sessionmaker, world.http)
    budget = providers.firms
    assert budget is not None
    conn = await _connect_google(world)
    before = budget.of(str(world.firm_id)).available()
    async with world.app.state.sessionmaker() as session:
        calendars = await writable_calendars(
            session, world.settings, world.http, world.actor("bob"), conn.id
        )
    assert calendars
    assert budget.of(str(world.firm_id)).available() < before == 50


MOVED = {
    "/elsewhere/authorize": "/o/oauth2/v2/auth",
    "/elsewhere/token": "/token",
    "/elsewhere/revoke": "/revoke",
}


class Elsewhere(httpx.AsyncBaseTransport):
    """A Google deployment whose identity endpoints live on other paths than Google's: its
    discovery document names them, and the conventional paths answer 404."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path in MOVED.values():
            return httpx.Response(404, json={"error": "not_found"})
        if path in MOVED:
            request.url = request.url.copy_with(path=MOVED[path])
        response = await self.inner.handle_async_request(request)
        if path != "/.well-known/openid-configuration":
            return response
        document = json.loads(await response.aread())
        for key, moved in (
            ("authorization_endpoint", "/elsewhere/authorize"),
            ("token_endpoint", "/elsewhere/token"),
            ("revocation_endpoint", "/elsewhere/revoke"),
        ):
            document[key] = f"{GOOGLE}{moved}"
        return httpx.Response(200, json=document)


async def test_endpoints_come_from_the_discovery_document(world: World) -> None:
    google = Elsewhere(httpx.ASGITransport(app=world.google.app))
    microsoft = httpx.ASGITransport(app=world.microsoft.app)
    async with httpx.AsyncClient(mounts={GOOGLE: google, MICROSOFT: microsoft}) as http:
        world.http = world.app.state.http = http
        conn = await _connect_google(world, http)
        assert conn.refresh_token_enc
        assert "/elsewhere/authorize" in google.paths
        assert "/elsewhere/token" in google.paths

        # The engine refreshes at the same endpoint (the stored access token is expired).
        conn.access_token_expires_at = None
        providers = ConnectionProviders(world.settings, world.app.state.sessionmaker, http)
        adapter = await providers.adapter(conn)
        google.paths.clear()
        try:
            await adapter.list_calendars()
        except ProviderError as exc:  # pragma: no cover - the assertion below says what
            raise AssertionError(f"refresh failed: {exc!r}; sent {google.paths}") from exc
        assert google.paths[0] == "/elsewhere/token"

        async with world.app.state.sessionmaker() as session:
            await disconnect(session, world.settings, http, world.actor("bob"), conn.id)
        assert "/elsewhere/revoke" in google.paths
        assert not set(MOVED.values()) & set(google.paths)
