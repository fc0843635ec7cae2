"""After a revoked grant, re-authorising (Modify) resumes from the saved cursor: the next pass is
incremental, nothing is duplicated, and new changes flow again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connect_helpers import connected_google
from connect_world import World

from casecal.auth.encryption import TokenCipher
from casecal.services.access import Actor
from casecal.services.appointments import create_appointment
from casecal.services.connect import start_connect
from casecal.store.tables import Connection, ConnectionStatus, ProviderName, SyncCursor
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


async def _appointment(world: World, title: str) -> None:
    async with world.app.state.sessionmaker() as session:
        await create_appointment(session, Actor.of(world.users["bob"]), {
            "title": title, "start_at": SOON, "end_at": SOON + timedelta(hours=1),
            "time_zone": "UTC"})  # fmt: skip


async def test_reauthorised_connection_resumes_from_its_cursor(world: World) -> None:
    conn = await connected_google(world)
    sessionmaker = world.app.state.sessionmaker
    cipher = TokenCipher.from_settings(world.settings)
    engine = SyncEngine(
        sessionmaker,
        ConnectionProviders(world.settings, sessionmaker, world.http, cipher),
        base_url="http://testserver",
    )
    await _appointment(world, "Before the lapse")
    assert (await engine.run_pass(world.firm_id, conn.id)).outcome == "ok"
    async with sessionmaker() as session:
        saved = await session.get(SyncCursor, conn.id)
        assert saved is not None
        assert saved.cursor
        cursor_before = saved.cursor
    async with sessionmaker() as session:
        row = await session.get(Connection, conn.id)
        assert row is not None
        refresh = cipher.decrypt(row.refresh_token_enc or "")
    world.google.revoke(refresh)
    world.google.expire_access_tokens()
    assert (await engine.run_pass(world.firm_id, conn.id)).outcome == "needs_reauth"
    await _appointment(world, "During the lapse")

    async with sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor("bob"), ProviderName.GOOGLE,
            browser_binding=world.binding("bob"), connection_id=conn.id,
        )  # fmt: skip
    response = await world.callback(
        "bob", "/oauth/google/callback", await world.provider_redirect(url)
    )
    assert response.status_code == 303
    async with sessionmaker() as session:
        row = await session.get(Connection, conn.id)
        assert row is not None
        assert row.status is ConnectionStatus.ACTIVE

    world.google.log.clear()
    report = await engine.run_pass(world.firm_id, conn.id)
    assert report.outcome == "ok", report.error
    listing = [e for e in world.google.log.entries if e.path.endswith("/events")]
    assert listing
    assert listing[0].method == "GET"
    assert f"syncToken={cursor_before}" in listing[0].query  # resumed, not a full resync
    titles = sorted(e.get("summary", "") for e in world.google.events("bob@example.org"))
    assert titles == ["Before the lapse", "During the lapse"]  # nothing twice, nothing lost
