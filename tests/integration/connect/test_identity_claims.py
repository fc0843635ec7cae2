"""Identity claims that must not be trusted, with id_tokens the emulators sign as the real
providers would (so only the claims are forged): a Microsoft ``email`` claim set by another
tenant (nOAuth) never passes the identity guard, ``xms_edov`` or a domain the token's own
tenant verified does, a bound connection is its ``oid`` + ``tid`` whatever the address says,
and a Google address counts only with ``email_verified`` present and true."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
from connect_helpers import connections, no_tokens_kept
from connect_world import GOOGLE, MICROSOFT, World

from casecal.services.connect import ConnectOutcome, complete_connect, start_connect
from casecal.store.tables import ProviderName

Claims = dict[str, Any]


class ForgingTransport(httpx.AsyncBaseTransport):
    """Passes requests to an emulator and re-signs the id_token of token answers with the
    emulator's own key after ``forge`` changed its claims."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        sign: Callable[[Claims], str],
        forge: Callable[[Claims], Claims],
    ) -> None:
        self.inner, self.sign, self.forge = inner, sign, forge

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/token"):
            return response
        body = json.loads(await response.aread())
        if "id_token" in body:
            payload = body["id_token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            body["id_token"] = self.sign(self.forge(claims))
        return httpx.Response(response.status_code, json=body)


def _forging_client(world: World, forge: Callable[[Claims], Claims]) -> httpx.AsyncClient:
    google = httpx.ASGITransport(app=world.google.app)
    microsoft = httpx.ASGITransport(app=world.microsoft.app)
    return httpx.AsyncClient(
        mounts={
            GOOGLE: ForgingTransport(google, world.google.key.sign, forge),
            MICROSOFT: ForgingTransport(microsoft, world.microsoft.keys.sign, forge),
        }
    )


async def _connect(
    world: World,
    who: str,
    provider: ProviderName,
    forge: Callable[[Claims], Claims],
    *,
    login_hint: str = "",
    connection_id: Any = None,
) -> ConnectOutcome:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor(who), provider,
            browser_binding=world.binding(who), connection_id=connection_id,
        )  # fmt: skip
    params = await world.provider_redirect(
        url, **({"login_hint": login_hint} if login_hint else {})
    )
    async with _forging_client(world, forge) as http, world.app.state.sessionmaker() as session:
        return await complete_connect(
            session, world.settings, http, world.actor(who), provider, params,
            browser_binding=world.binding(who),
        )  # fmt: skip


def _without(*names: str) -> Callable[[Claims], Claims]:
    return lambda claims: {k: v for k, v in claims.items() if k not in names}


def _with(**values: Any) -> Callable[[Claims], Claims]:
    return lambda claims: claims | values


def _mallory(world: World) -> None:
    """A user of another tenant whose admin set her mail to Ann's address (nOAuth)."""
    evil = world.microsoft.add_tenant(domain="evil.example")
    world.microsoft.add_user(evil, "mallory@evil.example", "Mallory", mail="ann@contoso.com")


async def test_microsoft_email_claim_from_another_tenant_is_not_the_user(world: World) -> None:
    _mallory(world)
    outcome = await _connect(
        world, "ann", ProviderName.MICROSOFT, _without("preferred_username"),
        login_hint="mallory@evil.example",
    )  # fmt: skip
    assert outcome.kind == "identity_mismatch", outcome.message
    assert "not verified" in outcome.message
    assert no_tokens_kept(await connections(world.app.state.sessionmaker, world.users["ann"].id))


async def test_microsoft_email_claim_with_xms_edov_false_is_not_the_user(world: World) -> None:
    _mallory(world)
    forge = _without("preferred_username")
    outcome = await _connect(
        world, "ann", ProviderName.MICROSOFT, lambda c: forge(c) | {"xms_edov": False},
        login_hint="mallory@evil.example",
    )  # fmt: skip
    assert outcome.kind == "identity_mismatch"


async def test_microsoft_email_claim_counts_when_xms_edov_is_true(world: World) -> None:
    _mallory(world)  # Entra sets xms_edov only for an owner-verified domain: trusted as such
    forge = _without("preferred_username")
    outcome = await _connect(
        world, "ann", ProviderName.MICROSOFT, lambda c: forge(c) | {"xms_edov": True},
        login_hint="mallory@evil.example",
    )  # fmt: skip
    assert outcome.kind == "choose_calendar", outcome.message


async def test_microsoft_email_claim_counts_in_the_tenant_that_verified_its_domain(
    world: World,
) -> None:
    outcome = await _connect(world, "ann", ProviderName.MICROSOFT, _without("preferred_username"))
    assert outcome.kind == "choose_calendar", outcome.message
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert (conn.account_email, conn.tenant_id) == ("ann@contoso.com", world.tenant_id)


async def test_bound_microsoft_connection_is_its_oid_and_tid(world: World) -> None:
    first = await _connect(world, "ann", ProviderName.MICROSOFT, lambda c: c)
    assert first.kind == "choose_calendar"
    renamed = await _connect(
        world, "ann", ProviderName.MICROSOFT,
        _with(preferred_username="ann.renamed@contoso.com"), connection_id=first.connection_id,
    )  # fmt: skip
    assert renamed.kind == "choose_calendar", renamed.message  # same oid + tid: still Ann
    other = await _connect(
        world, "ann", ProviderName.MICROSOFT,
        _with(oid="00000000-0000-0000-0000-00000000beef"), connection_id=first.connection_id,
        login_hint="ann@contoso.com",
    )  # fmt: skip
    assert other.kind == "identity_mismatch", other.message  # Ann's address, another account
    assert "belongs to the Microsoft account" in other.message


async def test_microsoft_token_without_oid_is_refused(world: World) -> None:
    outcome = await _connect(world, "ann", ProviderName.MICROSOFT, _without("oid"))
    assert outcome.kind == "identity_mismatch"
    assert "did not name the account" in outcome.message


async def test_google_email_without_email_verified_is_not_the_user(world: World) -> None:
    outcome = await _connect(world, "bob", ProviderName.GOOGLE, _without("email_verified"))
    assert outcome.kind == "identity_mismatch", outcome.message
    assert "not verified" in outcome.message
    assert no_tokens_kept(await connections(world.app.state.sessionmaker, world.users["bob"].id))


async def test_google_email_verified_false_is_not_the_user(world: World) -> None:
    for value in (False, "false", None):
        outcome = await _connect(world, "bob", ProviderName.GOOGLE, _with(email_verified=value))
        assert outcome.kind == "identity_mismatch", value


async def test_google_email_verified_true_is_the_user(world: World) -> None:
    outcome = await _connect(world, "bob", ProviderName.GOOGLE, _with(email_verified=True))
    assert outcome.kind == "choose_calendar", outcome.message
