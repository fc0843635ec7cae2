"""Connecting calendars end to end against the emulated providers: the Google and Microsoft
happy paths, Microsoft admin consent (approval required -> the admin consents from CaseCal ->
the case manager finishes with Modify, without IT), the identity guard and aliases."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from connect_helpers import actions, connections, dump, no_tokens_kept
from connect_world import BASE, World

from casecal.auth.encryption import TokenCipher
from casecal.errors import PermissionDenied
from casecal.services.aliases import allow_alias
from casecal.services.connect import activate, start_connect, writable_calendars
from casecal.services.consents import consent_panel, start_admin_consent
from casecal.services.subscriptions import remove_seat
from casecal.store.tables import (
    Backfill,
    ConnectionStatus,
    ProviderName,
    TenantConsent,
)


async def _connect(world: World, who: str, provider: ProviderName, **override: str) -> object:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor(who), provider, browser_binding=world.binding(who)
        )
    params = await world.provider_redirect(url, **override)
    return await world.callback(who, f"/oauth/{provider.value}/callback", params)


async def test_google_connect_choose_calendar_and_activate(world: World) -> None:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session,
            world.settings,
            world.actor("bob"),
            ProviderName.GOOGLE,
            browser_binding=world.binding("bob"),
        )
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == f"{BASE}/oauth/google/callback"
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["login_hint"] == "bob@example.org"
    assert query["nonce"]
    response = await world.callback(
        "bob", "/oauth/google/callback", await world.provider_redirect(url)
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/calendar-sync?flash=connected")
    [conn] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    assert conn.status is ConnectionStatus.PENDING
    assert conn.account_email == "bob@example.org"
    assert conn.account_subject
    assert conn.refresh_token_enc
    assert conn.last_authorized_at is not None
    refresh = TokenCipher.from_settings(world.settings).decrypt(conn.refresh_token_enc)
    assert refresh not in await dump(world.app.state.sessionmaker)
    async with world.app.state.sessionmaker() as session:
        calendars = await writable_calendars(
            session, world.settings, world.http, world.actor("bob"), conn.id
        )
        assert [c.primary for c in calendars] == [True, False]
        assert [c.name for c in calendars][1] == "Court dates"
        active = await activate(
            session,
            world.actor("bob"),
            conn.id,
            calendar_id=calendars[0].id,
            calendar_name=calendars[0].name,
            step_reminders=True,
            backfill=Backfill.UPCOMING,
        )
        assert active.status is ConnectionStatus.ACTIVE
        assert active.step_reminders
    assert await actions(world.app.state.sessionmaker) == [
        "connection.authorized",
        "connection.activated",
    ]


async def test_microsoft_connect_binds_oid_and_tenant(world: World) -> None:
    response = await _connect(world, "ann", ProviderName.MICROSOFT)
    assert getattr(response, "status_code", None) == 303
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert conn.status is ConnectionStatus.PENDING
    assert conn.tenant_id == world.tenant_id
    assert conn.account_subject == world.microsoft.state.user_by_upn("ann@contoso.com").oid
    async with world.app.state.sessionmaker() as session:
        calendars = await writable_calendars(
            session, world.settings, world.http, world.actor("ann"), conn.id
        )
    assert calendars[0].primary
    assert calendars[0].name == "Calendar"


async def test_admin_consent_then_modify_completes_without_it(world: World) -> None:
    world.microsoft.set_consent_policy(world.tenant_id, True)
    response = await _connect(world, "ann", ProviderName.MICROSOFT)
    assert getattr(response, "status_code", None) == 200
    page = getattr(response, "text", "")
    assert "Approval required" in page
    assert f"/{world.tenant_id}/v2.0/adminconsent" in page
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert conn.status is ConnectionStatus.AWAITING_CONSENT
    assert conn.tenant_id == world.tenant_id
    assert no_tokens_kept([conn])
    async with world.app.state.sessionmaker() as session:
        [view] = await consent_panel(session, world.actor("admin"), world.settings)
        assert (view.tenant_id, view.status) == (world.tenant_id, "required")
        assert [w.email for w in view.waiting] == ["ann@contoso.com"]
        url = await start_admin_consent(
            session,
            world.settings,
            world.actor("admin"),
            world.tenant_id,
            browser_binding=world.binding("admin"),
        )
    params = await world.provider_redirect(url)
    assert params["admin_consent"] == "True"
    done = await world.callback("admin", "/oauth/microsoft/adminconsent/callback", params)
    assert done.status_code == 303
    assert "consent_recorded" in done.headers["location"]
    async with world.app.state.sessionmaker() as session:
        consent = await session.get(TenantConsent, view_id(await consent_rows(session)))
        assert consent is not None
        assert consent.status == "consented"
        assert consent.consented_by == "admin@contoso.com"
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert "Modify" in conn.status_reason
    [mail] = world.inbox.to("ann@contoso.com")
    assert f"{BASE}/calendar-sync/connect/microsoft?modify={conn.id}" in mail.get_content()
    async with world.app.state.sessionmaker() as session:
        modify = await start_connect(
            session,
            world.settings,
            world.actor("ann"),
            ProviderName.MICROSOFT,
            browser_binding=world.binding("ann"),
            connection_id=conn.id,
        )
    assert f"/{world.tenant_id}/oauth2/v2.0/authorize" in modify
    finish = await world.callback(
        "ann", "/oauth/microsoft/callback", await world.provider_redirect(modify)
    )
    assert finish.status_code == 303
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert conn.status is ConnectionStatus.PENDING
    assert conn.refresh_token_enc
    assert "consent.required" in await actions(world.app.state.sessionmaker)


async def consent_rows(session: object) -> list[TenantConsent]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    return list((await session.scalars(select(TenantConsent))).all())


def view_id(rows: list[TenantConsent]) -> object:
    [row] = rows
    return row.id


@pytest.mark.parametrize("provider", [ProviderName.GOOGLE, ProviderName.MICROSOFT])
async def test_identity_guard_admin_in_case_managers_browser(
    world: World, provider: ProviderName
) -> None:
    who = "bob" if provider is ProviderName.GOOGLE else "ann"
    response = await _connect(world, who, provider, login_hint="admin@contoso.com")
    assert getattr(response, "status_code", None) == 400
    page = getattr(response, "text", "")
    assert "That was not your account" in page
    assert "Ada Admin" in page
    assert "admin@contoso.com" in page
    assert "nothing was connected" in page
    assert await connections(world.app.state.sessionmaker, world.users[who].id) == []
    assert "connection.refused" in await actions(world.app.state.sessionmaker)


async def test_alias_allowed_by_admin_passes_the_guard(world: World) -> None:
    async with world.app.state.sessionmaker() as session:
        await allow_alias(
            session,
            world.actor("admin"),
            world.users["ann"].id,
            ProviderName.MICROSOFT,
            "ann.lee@contoso.com",
        )
    response = await _connect(
        world, "ann", ProviderName.MICROSOFT, login_hint="ann.lee@contoso.com"
    )
    assert getattr(response, "status_code", None) == 303
    [conn] = await connections(world.app.state.sessionmaker, world.users["ann"].id)
    assert conn.account_email == "ann.lee@contoso.com"


async def test_a_seat_removed_while_authorising_refuses_the_activation(world: World) -> None:
    """The seat is checked when the calendar is chosen too, not only when Connect is clicked:
    a connection whose seat went away in between never starts syncing."""
    response = await _connect(world, "bob", ProviderName.GOOGLE)
    assert getattr(response, "status_code", None) == 303
    [conn] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    async with world.app.state.sessionmaker() as session:
        await remove_seat(session, world.actor("admin"), world.users["bob"].id)
    async with world.app.state.sessionmaker() as session:
        with pytest.raises(PermissionDenied, match="Calendar Sync is not enabled for you"):
            await activate(
                session,
                world.actor("bob"),
                conn.id,
                calendar_id="bob@example.org",
                calendar_name="Bob",
                step_reminders=False,
                backfill=Backfill.UPCOMING,
            )
    [after] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    assert after.status is not ConnectionStatus.ACTIVE
