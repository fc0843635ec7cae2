"""Admin approval of each connection (``connections.require_approval``): the case manager's
authorisation succeeds but the connection waits, nothing is asked of the provider's calendar
API until a firm or team admin approves, approval starts the first pass at once, a decline's
reason reaches the case manager, and another firm's admin (or a team admin of another team)
finds nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from connect_helpers import actions, connected_google, connections
from connect_world import BASE, World
from sqlalchemy import select

from casecal.auth.api_tokens import issue_token
from casecal.auth.encryption import TokenCipher
from casecal.domain.settings_catalog import Level
from casecal.errors import NotFound, PermissionDenied, ValidationFailed
from casecal.services import approvals
from casecal.services.connect import activate, start_connect
from casecal.services.firm_settings import Scope, read_settings, set_value
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Backfill,
    Connection,
    ConnectionApproval,
    ConnectionStatus,
    ProviderName,
    Team,
    User,
    WebSession,
)
from casecal.sync.channels import ChannelManager
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine
from casecal.sync.scheduler import Scheduler

CALENDAR_API = "/calendar/v3"
KEY = "connections.require_approval"


async def _require_approval(world: World, scope: Scope | None = None) -> None:
    async with world.app.state.sessionmaker() as session:
        await set_value(session, world.actor("admin"), scope or Scope(Level.FIRM, world.firm_id),
                        KEY, True, locked=False)  # fmt: skip


def _calendar_calls(world: World) -> list[str]:
    return [e.path for e in world.google.log.entries if e.path.startswith(CALENDAR_API)]


async def _status(world: World, connection_id: uuid.UUID) -> Connection:
    async with world.app.state.sessionmaker() as session:
        row = await session.get(Connection, connection_id)
        assert row is not None
        return row


@pytest.fixture(autouse=True)
async def _no_stray_passes(world: World) -> None:
    """The app's own scheduler cannot reach the emulators: stop it, so an approval's kick does
    not leave it retrying a pass while the test ends (the tests that sync use ``syncing``)."""
    await world.app.state.scheduler.stop()


@pytest.fixture
async def syncing(world: World) -> AsyncIterator[Scheduler]:
    """The app's kicker and push channels, over the emulators' client (what the approve route
    kicks); the scheduler's workers run, its periodic sweep is called by the tests."""
    sessionmaker = world.app.state.sessionmaker
    providers = ConnectionProviders(
        world.settings, sessionmaker, world.http, TokenCipher.from_settings(world.settings)
    )
    engine = SyncEngine(sessionmaker, providers, base_url=BASE)
    scheduler = Scheduler(sessionmaker, engine, concurrency=1, sweep_seconds=3600)
    world.app.state.kicker = scheduler
    world.app.state.channels = ChannelManager(
        sessionmaker, providers, webhook_base_url="https://hooks.example.org",
        secret_keys=["k"], kick=scheduler.kick,
    )  # fmt: skip
    await scheduler.start()
    yield scheduler
    await scheduler.stop()


async def _api(world: World, who: str) -> dict[str, str]:
    async with world.app.state.sessionmaker() as session:
        user = await session.get(User, world.users[who].id)
        assert user is not None
        issued = await issue_token(session, user)
        await session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


async def test_waits_without_calling_the_calendar_api_until_approved(
    world: World, syncing: Scheduler
) -> None:
    await _require_approval(world)
    world.google.log.clear()
    conn = await connected_google(world)
    assert conn.status is ConnectionStatus.AWAITING_APPROVAL
    assert conn.refresh_token_enc  # the authorisation itself succeeded and is kept

    # Everything that would start a pass or a channel: the sweep, a kick, a direct pass.
    await syncing.sweep()
    await syncing.kick(conn.id)
    await asyncio.wait_for(syncing.drain(), 10)
    report = await world.app.state.sync_engine.run_pass(world.firm_id, conn.id)
    assert report.outcome == "skipped:awaiting_approval"
    assert await world.app.state.channels.open(conn.id) is None
    assert _calendar_calls(world) == []  # nothing asked of the calendar API
    assert (await _status(world, conn.id)).status is ConnectionStatus.AWAITING_APPROVAL

    # The admin's queue (API) lists it; approving kicks the first pass at once.
    headers = await _api(world, "admin")
    listed = (await world.web.get("/api/v1/approvals", headers=headers)).json()
    assert [(a["connection_id"], a["user_email"], a["account_email"]) for a in listed] == [
        (str(conn.id), "bob@example.org", "bob@example.org")
    ]
    answer = await world.web.post(f"/api/v1/approvals/{conn.id}/approve", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "active"
    await asyncio.wait_for(syncing.drain(), 10)
    row = await _status(world, conn.id)
    assert row.status is ConnectionStatus.ACTIVE
    assert row.last_sync_at is not None  # the first pass ran, without waiting for a sweep
    assert _calendar_calls(world)  # and only now the calendar API is used
    assert (await world.web.get("/api/v1/approvals", headers=headers)).json() == []
    assert {"connection.approval_requested", "connection.approved"} <= set(
        await actions(world.app.state.sessionmaker)
    )


async def test_an_approved_connection_does_not_wait_again(world: World) -> None:
    await _require_approval(world)
    conn = await connected_google(world)
    async with world.app.state.sessionmaker() as session:
        await approvals.approve(session, world.actor("admin"), conn.id)
    again = await connected_google_reactivate(world, conn.id)
    assert again.status is ConnectionStatus.ACTIVE


async def connected_google_reactivate(world: World, connection_id: uuid.UUID) -> Connection:
    async with world.app.state.sessionmaker() as session:
        return await activate(session, world.actor("bob"), connection_id,
                              calendar_id="bob@example.org", calendar_name="Bob",
                              step_reminders=False, backfill=Backfill.UPCOMING)  # fmt: skip


async def test_without_the_setting_a_connection_syncs_at_once(world: World) -> None:
    conn = await connected_google(world)
    assert conn.status is ConnectionStatus.ACTIVE
    async with world.app.state.sessionmaker() as session:
        rows = (await session.scalars(select(ConnectionApproval))).all()
    assert rows == []


async def test_decline_shows_the_reason_to_the_case_manager(world: World) -> None:
    await _require_approval(world)
    conn = await connected_google(world)
    headers = await _api(world, "admin")
    empty = await world.web.post(
        f"/api/v1/approvals/{conn.id}/decline", headers=headers, json={"reason": ""}
    )
    assert empty.status_code == 422
    admin = {"Cookie": f"casecal_session={world.cookies['admin']}"}
    hostile = await world.web.post(
        f"/calendar-sync/approvals/{conn.id}/decline", headers=admin,
        data={"csrf_token": await _csrf(world, "admin"), "reason": "no\x00way"},
    )  # fmt: skip
    assert hostile.status_code == 422  # refused with the page, never a 500
    assert (await _status(world, conn.id)).status is ConnectionStatus.AWAITING_APPROVAL
    answer = await world.web.post(
        f"/api/v1/approvals/{conn.id}/decline", headers=headers,
        json={"reason": "Use your firm calendar, not a personal one."},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    row = await _status(world, conn.id)
    assert row.status is ConnectionStatus.DISCONNECTED
    assert row.refresh_token_enc is None
    assert row.access_token_enc is None
    assert "Use your firm calendar, not a personal one." in row.status_reason
    page = await world.web.get(
        "/calendar-sync", headers={"Cookie": f"casecal_session={world.cookies['bob']}"}
    )
    assert page.status_code == 200
    assert "Your connection was declined." in page.text
    assert "Use your firm calendar, not a personal one." in page.text
    again = await world.web.post(f"/api/v1/approvals/{conn.id}/approve", headers=headers)
    assert again.status_code == 409  # it is not waiting any more
    assert "connection.declined" in await actions(world.app.state.sessionmaker)


async def test_pages_show_the_waiting_state_and_the_queue(world: World) -> None:
    await _require_approval(world)
    conn = await connected_google(world)
    bob = {"Cookie": f"casecal_session={world.cookies['bob']}"}
    admin = {"Cookie": f"casecal_session={world.cookies['admin']}"}
    mine = await world.web.get("/calendar-sync", headers=bob)
    assert "Awaiting approval" in mine.text
    overview = await world.web.get("/calendar-sync", headers=admin)
    assert "Awaiting approval" in overview.text
    assert "Connections waiting for approval" in overview.text
    queue = await world.web.get("/calendar-sync/approvals", headers=admin)
    assert queue.status_code == 200
    assert f'data-connection="{conn.id}"' in queue.text
    assert "Bob Brown" in queue.text
    refused = await world.web.get("/calendar-sync/approvals", headers=bob)
    assert refused.status_code == 403
    assert f'data-connection="{conn.id}"' not in refused.text


async def test_team_admin_sees_and_decides_only_their_team(world: World) -> None:
    sessionmaker = world.app.state.sessionmaker
    red, blue = uuid.uuid4(), uuid.uuid4()
    bob_id, ann_id = world.users["bob"].id, world.users["ann"].id
    async with sessionmaker() as session:
        session.add_all([Team(id=red, firm_id=world.firm_id, name="Red"),
                         Team(id=blue, firm_id=world.firm_id, name="Blue")])  # fmt: skip
        await session.flush()
        for user_id, team in ((bob_id, red), (ann_id, blue)):
            user = await session.get(User, user_id)
            assert user is not None
            user.team_id = team
        await session.commit()
    await _require_approval(world, Scope(Level.TEAM, red, team_id=red, name="team Red"))
    async with sessionmaker() as session:
        await approvals.name_team_admin(session, world.actor("admin"), blue, ann_id)
    conn = await connected_google(world)  # Bob, of Red: Red requires approval
    assert conn.status is ConnectionStatus.AWAITING_APPROVAL
    ann_actor = world.actor("ann")
    async with sessionmaker() as session:
        assert await approvals.waiting(session, ann_actor) == []
        with pytest.raises(NotFound):
            await approvals.approve(session, ann_actor, conn.id)
    headers = await _api(world, "ann")
    assert (await world.web.get("/api/v1/approvals", headers=headers)).json() == []
    answer = await world.web.post(f"/api/v1/approvals/{conn.id}/approve", headers=headers)
    assert answer.status_code == 404
    # Named admin of Red too, Ann now sees and approves Bob's.
    async with sessionmaker() as session:
        await approvals.name_team_admin(session, world.actor("admin"), red, ann_id)
    listed = (await world.web.get("/api/v1/approvals", headers=headers)).json()
    assert [a["connection_id"] for a in listed] == [str(conn.id)]
    assert listed[0]["team_name"] == "Red"
    answer = await world.web.post(f"/api/v1/approvals/{conn.id}/approve", headers=headers)
    assert answer.status_code == 200, answer.text
    # A case manager who administers no team may not use the queue at all.
    async with sessionmaker() as session:
        await approvals.remove_team_admin(session, world.actor("admin"), red, ann_id)
        await approvals.remove_team_admin(session, world.actor("admin"), blue, ann_id)
        with pytest.raises(PermissionDenied):
            await approvals.waiting(session, ann_actor)


async def test_another_firms_admin_cannot_see_or_decide(world: World) -> None:
    await _require_approval(world)
    conn = await connected_google(world)
    async with world.app.state.sessionmaker() as session:
        other = await create_firm(
            session, name="Other Law", admin_email="boss@other.example", admin_name="Olga"
        )
        boss = await session.get(User, other.admin_user_id)
        assert boss is not None
        issued = await issue_token(session, boss)
        await session.commit()
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert (await world.web.get("/api/v1/approvals", headers=headers)).json() == []
    for verb in ("approve", "decline"):
        answer = await world.web.post(
            f"/api/v1/approvals/{conn.id}/{verb}", headers=headers,
            **({"json": {"reason": "no"}} if verb == "decline" else {}),
        )  # fmt: skip
        assert answer.status_code == 404, answer.text
    other_team = await world.web.put(
        f"/api/v1/teams/{uuid.uuid4()}/admins/{world.users['bob'].id}", headers=headers
    )
    assert other_team.status_code == 404
    assert (await _status(world, conn.id)).status is ConnectionStatus.AWAITING_APPROVAL


async def test_the_setting_is_set_for_the_firm_or_a_team_only(world: World) -> None:
    user_scope = Scope(Level.USER, world.users["bob"].id, user_id=world.users["bob"].id,
                       name="Bob Brown")  # fmt: skip
    async with world.app.state.sessionmaker() as session:
        with pytest.raises(ValidationFailed):
            await set_value(session, world.actor("admin"), user_scope, KEY, True, locked=False)
        states = {s.spec.key: s for s in await read_settings(
            session, world.actor("admin"), user_scope)}  # fmt: skip
    assert states[KEY].may_edit is False
    async with world.app.state.sessionmaker() as session:
        firm = {s.spec.key: s for s in await read_settings(
            session, world.actor("admin"), Scope(Level.FIRM, world.firm_id))}  # fmt: skip
    assert firm[KEY].may_edit is True
    assert firm[KEY].effective.value is False  # off by default: connections sync at once


async def test_api_needs_a_token(world: World) -> None:
    assert (await world.web.get("/api/v1/approvals")).status_code == 401


async def _csrf(world: World, who: str) -> str:
    async with world.app.state.sessionmaker() as session:
        digest = hashlib.sha256(world.cookies[who].encode()).hexdigest()
        row = await session.get(WebSession, digest)
        assert row is not None
        return row.csrf_token


async def test_through_the_pages(world: World, syncing: Scheduler) -> None:
    """The case manager chooses the calendar on the page and is told it waits; the admin
    approves on the queue page and the first pass runs."""
    await _require_approval(world)
    world.google.log.clear()
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor("bob"), ProviderName.GOOGLE,
            browser_binding=world.binding("bob"),
        )  # fmt: skip
    await world.callback("bob", "/oauth/google/callback", await world.provider_redirect(url))
    [conn] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    bob = {"Cookie": f"casecal_session={world.cookies['bob']}"}
    chosen = await world.web.post(
        f"/calendar-sync/connections/{conn.id}/calendar", headers=bob,
        data={"csrf_token": await _csrf(world, "bob"),
              "calendar": json.dumps({"id": "bob@example.org", "name": "Bob"})},
    )  # fmt: skip
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/calendar-sync?done=awaiting-approval"
    told = await world.web.get(chosen.headers["location"], headers=bob)
    assert "starts syncing as soon as an admin approves" in told.text
    [mail] = world.inbox.to("admin@contoso.com")  # the firm admin is told, once
    assert "Bob Brown (bob@example.org)" in mail.get_content()
    assert f"{BASE}/calendar-sync/approvals" in mail.get_content()
    assert world.inbox.to("bob@example.org") == []
    await asyncio.wait_for(syncing.drain(), 10)
    assert _calendar_calls(world) == []  # no pass, no push channel

    admin = {"Cookie": f"casecal_session={world.cookies['admin']}"}
    approved = await world.web.post(
        f"/calendar-sync/approvals/{conn.id}/approve", headers=admin,
        data={"csrf_token": await _csrf(world, "admin")},
    )  # fmt: skip
    assert approved.status_code == 303
    assert (
        "Approved: syncing has started."
        in (await world.web.get(approved.headers["location"], headers=admin)).text
    )
    audit = (await world.web.get("/calendar-sync", headers=admin)).text
    assert "Calendar connection approved" in audit  # the audit log, readable
    assert "Calendar connection waits for approval" in audit
    await asyncio.wait_for(syncing.drain(), 10)
    assert (await _status(world, conn.id)).last_sync_at is not None
    assert _calendar_calls(world)


async def test_the_firm_admins_and_the_teams_admins_are_told(world: World) -> None:
    sessionmaker = world.app.state.sessionmaker
    red, blue = uuid.uuid4(), uuid.uuid4()
    async with sessionmaker() as session:
        session.add_all([Team(id=red, firm_id=world.firm_id, name="Red"),
                         Team(id=blue, firm_id=world.firm_id, name="Blue")])  # fmt: skip
        await session.flush()
        bob = await session.get(User, world.users["bob"].id)
        assert bob is not None
        bob.team_id = red
        await session.commit()
    await _require_approval(world)
    conn = await connected_google(world)
    async with sessionmaker() as session:
        await approvals.name_team_admin(session, world.actor("admin"), blue, world.users["ann"].id)
        assert await approvals.tell_approvers(session, world.settings, conn.id) == 1  # not Blue's
        await approvals.name_team_admin(session, world.actor("admin"), red, world.users["ann"].id)
        assert await approvals.tell_approvers(session, world.settings, conn.id) == 2
    assert len(world.inbox.to("admin@contoso.com")) == 2
    assert len(world.inbox.to("ann@contoso.com")) == 1
