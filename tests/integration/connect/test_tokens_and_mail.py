"""Tokens and email: a Google user who unticks the calendar scope gets a clear page and no
connection; a revoked grant turns the connection to "needs re-authorisation" in one pass and
sends exactly one email per lapse with a one-click link; disconnecting revokes the grant at
Google; neither the database nor the logs ever hold a token in plain text."""

from __future__ import annotations

import uuid

import pytest
from connect_helpers import actions, connected_google, connections, dump
from connect_world import BASE, World

from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.services.connect import disconnect, start_connect
from casecal.services.mail import send_mail
from casecal.services.notify import connection_status_changed
from casecal.store.tables import Connection, ConnectionStatus, ProviderName
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine

CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"


async def test_unticked_calendar_scope_gets_a_clear_page(world: World) -> None:
    world.google.declined_scopes = {CALENDAR_EVENTS}
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session,
            world.settings,
            world.actor("bob"),
            ProviderName.GOOGLE,
            browser_binding=world.binding("bob"),
        )
    params = await world.provider_redirect(url)
    assert CALENDAR_EVENTS not in params["scope"]
    page = await world.callback("bob", "/oauth/google/callback", params)
    assert page.status_code == 400
    assert "Calendar access was not granted" in page.text
    assert "ticked" in page.text
    assert await connections(world.app.state.sessionmaker, world.users["bob"].id) == []


async def test_revoked_grant_sends_one_email_per_lapse(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = await connected_google(world)
    cipher = TokenCipher.from_settings(world.settings)
    refresh = cipher.decrypt(conn.refresh_token_enc or "")
    access = cipher.decrypt(conn.access_token_enc or "")
    sessionmaker = world.app.state.sessionmaker

    async def on_status(cid: uuid.UUID, status: ConnectionStatus, reason: str) -> None:
        await connection_status_changed(sessionmaker, world.settings, cid, status, reason)

    providers = ConnectionProviders(world.settings, sessionmaker, world.http, cipher)
    engine = SyncEngine(sessionmaker, providers, base_url=BASE, on_status=on_status)
    assert world.google.revoke(refresh)
    report = await engine.run_pass(world.firm_id, conn.id)
    assert report.outcome == "needs_reauth"
    [mail] = world.inbox.to("bob@example.org")
    assert "re-authorise" in mail["Subject"]
    assert f"{BASE}/calendar-sync/connect/google?modify={conn.id}" in mail.get_content()
    await connection_status_changed(
        sessionmaker, world.settings, conn.id, ConnectionStatus.NEEDS_REAUTH, "again"
    )
    calls = world.google.log.count()
    second = await engine.run_pass(world.firm_id, conn.id)
    assert second.outcome.startswith("skipped")
    assert world.google.log.count() == calls  # no further provider requests
    assert len(world.inbox.to("bob@example.org")) == 1
    assert (await actions(sessionmaker)).count("token.reauth_notice") == 1
    text = await dump(sessionmaker) + capsys.readouterr().out
    assert refresh not in text
    assert access not in text


async def test_reauthorising_opens_a_new_lapse(world: World) -> None:
    conn = await connected_google(world)
    sessionmaker = world.app.state.sessionmaker
    for _ in range(2):
        async with sessionmaker() as session, session.begin():
            row = await session.get(Connection, conn.id)
            assert row is not None
            row.status = ConnectionStatus.NEEDS_REAUTH
        await connection_status_changed(
            sessionmaker, world.settings, conn.id, ConnectionStatus.NEEDS_REAUTH, "revoked"
        )
        async with sessionmaker() as session:
            url = await start_connect(
                session,
                world.settings,
                world.actor("bob"),
                ProviderName.GOOGLE,
                browser_binding=world.binding("bob"),
                connection_id=conn.id,
            )
        response = await world.callback(
            "bob", "/oauth/google/callback", await world.provider_redirect(url)
        )
        assert response.status_code == 303
        [row] = await connections(sessionmaker, world.users["bob"].id)
        assert row.status is ConnectionStatus.ACTIVE  # a re-authorised connection resumes
    assert len(world.inbox.to("bob@example.org")) == 2


async def test_disconnect_revokes_at_google_and_wipes_tokens(world: World) -> None:
    conn = await connected_google(world)
    refresh = TokenCipher.from_settings(world.settings).decrypt(conn.refresh_token_enc or "")
    async with world.app.state.sessionmaker() as session:
        await disconnect(session, world.settings, world.http, world.actor("bob"), conn.id)
    [row] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    assert row.status is ConnectionStatus.DISCONNECTED
    assert row.refresh_token_enc is None
    assert row.access_token_enc is None
    assert not world.google.revoke(refresh)  # already revoked by the disconnect
    assert "connection.disconnected" in await actions(world.app.state.sessionmaker)


async def test_without_smtp_host_mail_is_logged_not_sent(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = Settings(**(world.settings.model_dump() | {"smtp_host": ""}))
    assert not await send_mail(quiet, "bob@example.org", "Hello", "body")
    assert world.inbox.messages == []
    assert "no SMTP host" in capsys.readouterr().out
