"""Consent on behalf of the whole firm (Microsoft 365): a firm admin who administers their
tenant consents once from CaseCal's settings; CaseCal records the tenant, who and when; every
case manager of that tenant then connects without a consent prompt (the emulator's request log
shows none served); a consent withdrawn in the tenant is noticed within one pass and turns the
tenant's connections into "awaiting admin consent" with the link offered again."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

from connect_helpers import actions, connections
from connect_world import BASE, World
from sqlalchemy import select

from casecal.auth.encryption import TokenCipher
from casecal.services.connect import activate, start_connect
from casecal.services.consents import READY_REASON, WITHDRAWN_REASON, admin_consent_url
from casecal.services.notify import connection_status_changed
from casecal.store.tables import (
    Backfill,
    Connection,
    ConnectionStatus,
    ProviderName,
    Role,
    Seat,
    Subscription,
    TenantConsent,
    User,
    WebSession,
    utcnow,
)
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine

FIRM_BUTTON = "Consent to the calendar integration on behalf of your entire firm"


async def _seated_manager(world: World, who: str, email: str, name: str) -> None:
    """One more case manager of the firm and of the Microsoft tenant, signed in."""
    world.microsoft.add_user(world.tenant_id, email, name)
    sessionmaker = world.app.state.sessionmaker
    async with sessionmaker() as session:
        user = User(id=uuid.uuid4(), firm_id=world.firm_id, email=email, name=name,
                    role=Role.CASE_MANAGER)  # fmt: skip
        session.add(user)
        await session.flush()
        sub = await session.scalar(
            select(Subscription).where(Subscription.firm_id == world.firm_id)
        )
        assert sub is not None
        session.add(Seat(firm_id=world.firm_id, subscription_id=sub.id, user_id=user.id))
        cookie = f"cookie-{who}-{uuid.uuid4().hex}"
        session.add(WebSession(
            id=hashlib.sha256(cookie.encode()).hexdigest(), firm_id=world.firm_id,
            user_id=user.id, csrf_token=uuid.uuid4().hex,
            expires_at=utcnow() + timedelta(hours=1),
        ))  # fmt: skip
        await session.commit()
    world.users[who], world.cookies[who] = user, cookie


def _cookie(world: World, who: str) -> dict[str, str]:
    return {"Cookie": f"casecal_session={world.cookies[who]}"}


async def _csrf(world: World, who: str) -> str:
    async with world.app.state.sessionmaker() as session:
        row = await session.get(WebSession, hashlib.sha256(world.cookies[who].encode()).hexdigest())
        assert row is not None
        return row.csrf_token


async def _firm_admin_consents(world: World) -> None:
    """The firm admin presses the button on Firm settings and consents at Microsoft."""
    page = await world.web.get("/firm-settings", headers=_cookie(world, "admin"))
    assert FIRM_BUTTON in page.text
    pressed = await world.web.post(
        "/calendar-sync/consents/organizations/grant",
        data={"csrf_token": await _csrf(world, "admin")},
        headers=_cookie(world, "admin"),
    )
    assert pressed.status_code == 303, pressed.text
    url = pressed.headers["location"]
    assert "/organizations/v2.0/adminconsent?" in url
    back = await world.callback(
        "admin", "/oauth/microsoft/adminconsent/callback", await world.provider_redirect(url)
    )
    assert back.status_code == 303, back.text


async def _connect(world: World, who: str, *, modify: uuid.UUID | None = None) -> Connection:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor(who), ProviderName.MICROSOFT,
            browser_binding=world.binding(who), connection_id=modify,
        )  # fmt: skip
    response = await world.callback(
        who, "/oauth/microsoft/callback", await world.provider_redirect(url)
    )
    assert response.status_code in (200, 303), response.text  # 200: the "Approval required" page
    [conn] = await connections(world.app.state.sessionmaker, world.users[who].id)
    return conn


async def _connect_and_activate(world: World, who: str) -> Connection:
    conn = await _connect(world, who)
    assert conn.status is ConnectionStatus.PENDING, conn.status_reason
    calendar = world.microsoft.state.users[conn.account_subject].default_calendar_id
    async with world.app.state.sessionmaker() as session:
        return await activate(session, world.actor(who), conn.id, calendar_id=calendar,
                              calendar_name="Calendar", step_reminders=False,
                              backfill=Backfill.UPCOMING)  # fmt: skip


def _engine(world: World) -> SyncEngine:
    sessionmaker = world.app.state.sessionmaker
    providers = ConnectionProviders(
        world.settings, sessionmaker, world.http, TokenCipher.from_settings(world.settings)
    )

    async def on_status(connection_id: uuid.UUID, status: ConnectionStatus, reason: str) -> None:
        await connection_status_changed(sessionmaker, world.settings, connection_id, status,
                                        reason)  # fmt: skip

    return SyncEngine(sessionmaker, providers, base_url=BASE, on_status=on_status)


async def _row(world: World, connection_id: uuid.UUID) -> Connection:
    async with world.app.state.sessionmaker() as session:
        row = await session.get(Connection, connection_id)
        assert row is not None
        return row


async def _tenant_consent(world: World) -> TenantConsent:
    async with world.app.state.sessionmaker() as session:
        row = await session.scalar(
            select(TenantConsent).where(TenantConsent.firm_id == world.firm_id)
        )
        assert row is not None
        return row


async def test_after_the_firm_consents_three_case_managers_connect_without_a_prompt(
    world: World,
) -> None:
    world.microsoft.set_consent_policy(world.tenant_id, admin_consent_required=True)
    await _seated_manager(world, "carl", "carl@contoso.com", "Carl Diaz")
    await _seated_manager(world, "dee", "dee@contoso.com", "Dee Evans")
    # Before the firm's consent the tenant lets no case manager in.
    assert (await _connect(world, "ann")).status is ConnectionStatus.AWAITING_CONSENT

    await _firm_admin_consents(world)
    recorded = await _tenant_consent(world)
    assert (recorded.status, recorded.tenant_id) == ("consented", world.tenant_id)
    assert recorded.consented_by == "admin@contoso.com"
    assert recorded.consented_at is not None
    page = await world.web.get("/firm-settings", headers=_cookie(world, "admin"))
    assert "Consented</span> by admin@contoso.com" in page.text

    world.microsoft.log.clear()
    ann = await _connect(world, "ann", modify=(await _row_of(world, "ann")).id)
    carl = await _connect(world, "carl")
    dee = await _connect(world, "dee")
    for conn in (ann, carl, dee):
        assert conn.status is ConnectionStatus.PENDING, conn.status_reason
        assert conn.refresh_token_enc
        assert conn.tenant_id == world.tenant_id
    authorize = world.microsoft.log.matching("GET", "/oauth2/v2.0/authorize")
    assert [e.status for e in authorize] == [302, 302, 302]
    assert world.microsoft.log.pages("consent") == []  # no consent page for any of them
    assert world.microsoft.log.pages("sign_in") == []


async def test_where_users_consent_themselves_the_log_shows_the_consent_page(
    world: World,
) -> None:
    """The marker the test above relies on: without the firm's consent, the same connect
    shows the user a consent page."""
    world.microsoft.log.clear()
    assert (await _connect(world, "ann")).status is ConnectionStatus.PENDING
    [shown] = world.microsoft.log.pages("consent")
    assert "login_hint=ann%40contoso.com" in shown.query


async def _row_of(world: World, who: str) -> Connection:
    [conn] = await connections(world.app.state.sessionmaker, world.users[who].id)
    return conn


async def test_a_withdrawn_consent_is_noticed_within_one_pass(world: World) -> None:
    await world.app.state.scheduler.stop()  # this test runs the passes itself
    world.microsoft.set_consent_policy(world.tenant_id, admin_consent_required=True)
    await _seated_manager(world, "carl", "carl@contoso.com", "Carl Diaz")
    await _seated_manager(world, "dee", "dee@contoso.com", "Dee Evans")
    await _firm_admin_consents(world)
    ann = await _connect_and_activate(world, "ann")
    carl = await _connect_and_activate(world, "carl")
    dee = await _connect(world, "dee")  # authorised, no calendar chosen yet: runs no pass
    engine = _engine(world)
    assert (await engine.run_pass(world.firm_id, ann.id)).outcome == "ok"
    assert (await engine.run_pass(world.firm_id, carl.id)).outcome == "ok"

    world.microsoft.withdraw_admin_consent(world.tenant_id, "m-client")
    report = await engine.run_pass(world.firm_id, ann.id)  # the one pass that finds out
    assert report.outcome == "awaiting_consent", report.error
    row = await _row(world, ann.id)
    assert row.status is ConnectionStatus.AWAITING_CONSENT
    assert row.status_reason == WITHDRAWN_REASON
    assert (await _tenant_consent(world)).status == "required"
    assert "consent.withdrawn" in await actions(world.app.state.sessionmaker)
    # The tenant's other connections: the waiting one at once, the active one is asked for a
    # pass now and finds out in it.
    assert (await _row(world, dee.id)).status is ConnectionStatus.AWAITING_CONSENT
    assert (await _row(world, carl.id)).sync_requested_at is not None
    assert (await engine.run_pass(world.firm_id, carl.id)).outcome == "awaiting_consent"

    link = admin_consent_url(world.settings, world.tenant_id)
    mine = await world.web.get("/calendar-sync", headers=_cookie(world, "ann"))
    assert "Awaiting admin consent" in mine.text
    assert link.replace("&", "&amp;") in mine.text  # the link again
    theirs = await world.web.get("/calendar-sync", headers=_cookie(world, "admin"))
    assert "Consent withdrawn" in theirs.text
    assert re.search(r"Ann Lee \(ann@contoso\.com\)", theirs.text)

    # Consent again: the waiting case managers finish with Modify, no consent page.
    await _firm_admin_consents(world)
    assert (await _row(world, ann.id)).status_reason == READY_REASON
    world.microsoft.log.clear()
    again = await _connect(world, "ann", modify=ann.id)
    assert again.status is ConnectionStatus.ACTIVE
    assert world.microsoft.log.pages("consent") == []
    assert (await engine.run_pass(world.firm_id, ann.id)).outcome == "ok"
