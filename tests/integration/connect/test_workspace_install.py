"""Consent on behalf of the whole firm on Google Workspace: the firm admin, a super
administrator of the domain, installs CaseCal for the domain once; CaseCal records it per
``hd`` (who and when); the domain's case managers then connect with no consent screen (the
emulator's request log shows none served); the admin's withdrawal (the app blocked for the
domain: ``admin_policy_enforced``) is noticed within one pass."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from connect_helpers import actions, connections
from connect_world import BASE, REDIRECTS, World
from sqlalchemy import select

from casecal.auth.encryption import TokenCipher
from casecal.services.connect import activate, start_connect
from casecal.services.consents import GOOGLE_WAITING_REASON
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

DOMAIN = "contoso.com"
INSTALL_CALLBACK = f"{BASE}/oauth/google/install/callback"


def _workspace(world: World) -> None:
    """contoso.com is a Google Workspace domain; the firm admin is its super administrator."""
    world.google.register_client("g-client", "g-secret", [*REDIRECTS, INSTALL_CALLBACK])
    for email in ("admin@contoso.com", "ann@contoso.com"):
        world.google.state.accounts[email].hosted_domain = DOMAIN
    world.google.state.accounts["admin@contoso.com"].is_admin = True


async def _seated_manager(world: World, who: str, email: str, name: str) -> None:
    world.google.add_account(email, name, hosted_domain=DOMAIN)
    sessionmaker = world.app.state.sessionmaker
    async with sessionmaker() as session:
        user = User(id=uuid.uuid4(), firm_id=world.firm_id, email=email, name=name,
                    role=Role.CASE_MANAGER)  # fmt: skip
        session.add(user)
        await session.flush()
        query = select(Subscription).where(Subscription.firm_id == world.firm_id)
        sub = await session.scalar(query)
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


async def _admin_installs(world: World) -> None:
    page = await world.web.get("/firm-settings", headers=_cookie(world, "admin"))
    assert "Install for your entire Google Workspace domain" in page.text
    pressed = await world.web.post(
        "/calendar-sync/consents/google/install",
        data={"csrf_token": await _csrf(world, "admin")},
        headers=_cookie(world, "admin"),
    )
    assert pressed.status_code == 303, pressed.text
    back = await world.callback(
        "admin", "/oauth/google/install/callback",
        await world.provider_redirect(pressed.headers["location"]),
    )  # fmt: skip
    assert back.status_code == 303, back.text


async def _connect(world: World, who: str) -> tuple[Connection, dict[str, str]]:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(session, world.settings, world.actor(who), ProviderName.GOOGLE,
                                  browser_binding=world.binding(who))  # fmt: skip
    response = await world.callback(who, "/oauth/google/callback",
                                    await world.provider_redirect(url))  # fmt: skip
    assert response.status_code in (200, 303), response.text
    [conn] = await connections(world.app.state.sessionmaker, world.users[who].id)
    return conn, dict(parse_qsl(urlsplit(url).query))


async def _activate(world: World, who: str, conn: Connection) -> None:
    async with world.app.state.sessionmaker() as session:
        await activate(session, world.actor(who), conn.id, calendar_id=conn.account_email,
                       calendar_name="Calendar", step_reminders=False,
                       backfill=Backfill.UPCOMING)  # fmt: skip


async def _row(world: World, connection_id: uuid.UUID) -> Connection:
    async with world.app.state.sessionmaker() as session:
        row = await session.get(Connection, connection_id)
        assert row is not None
        return row


async def _install(world: World) -> TenantConsent:
    async with world.app.state.sessionmaker() as session:
        row = await session.scalar(
            select(TenantConsent).where(
                TenantConsent.firm_id == world.firm_id, TenantConsent.tenant_id == DOMAIN
            )
        )
        assert row is not None
        return row


async def test_after_the_domain_install_three_case_managers_connect_without_a_consent_screen(
    world: World,
) -> None:
    _workspace(world)
    await _seated_manager(world, "carl", "carl@contoso.com", "Carl Diaz")
    await _seated_manager(world, "dee", "dee@contoso.com", "Dee Evans")
    await _admin_installs(world)
    recorded = await _install(world)
    assert (recorded.provider, recorded.status) == (ProviderName.GOOGLE, "consented")
    assert recorded.consented_by == "admin@contoso.com"
    assert recorded.consented_at is not None
    page = await world.web.get("/firm-settings", headers=_cookie(world, "admin"))
    assert "Consented</span> by admin@contoso.com" in page.text

    world.google.log.clear()
    for who in ("ann", "carl", "dee"):
        conn, asked = await _connect(world, who)
        assert conn.status is ConnectionStatus.PENDING, conn.status_reason
        assert conn.refresh_token_enc  # offline access without the forced consent screen
        assert conn.tenant_id == DOMAIN
        assert asked.get("hd") == DOMAIN
        assert "prompt" not in asked
    assert world.google.log.pages("consent") == []  # no consent screen for any of them
    assert [e.status for e in world.google.log.matching("GET", "/o/oauth2/v2/auth")] == [302] * 3


async def test_without_the_install_the_consent_screen_is_served(world: World) -> None:
    _workspace(world)
    world.google.log.clear()
    conn, asked = await _connect(world, "ann")
    assert conn.status is ConnectionStatus.PENDING
    assert asked.get("prompt") == "consent"
    [shown] = world.google.log.pages("consent")
    assert "login_hint=ann%40contoso.com" in shown.query


async def test_only_a_super_administrator_installs(world: World) -> None:
    _workspace(world)
    world.google.state.accounts["admin@contoso.com"].is_admin = False
    pressed = await world.web.post(
        "/calendar-sync/consents/google/install",
        data={"csrf_token": await _csrf(world, "admin")},
        headers=_cookie(world, "admin"),
    )
    back = await world.callback(
        "admin", "/oauth/google/install/callback",
        await world.provider_redirect(pressed.headers["location"]),
    )  # fmt: skip
    assert "super administrator" in back.text
    async with world.app.state.sessionmaker() as session:
        assert (await session.scalars(select(TenantConsent))).all() == []
    assert "consent.refused" in await actions(world.app.state.sessionmaker)


async def test_a_withdrawn_install_is_noticed_within_one_pass(world: World) -> None:
    await world.app.state.scheduler.stop()  # this test runs the passes itself
    _workspace(world)
    await _seated_manager(world, "carl", "carl@contoso.com", "Carl Diaz")
    await _seated_manager(world, "dee", "dee@contoso.com", "Dee Evans")
    await _admin_installs(world)
    ann, _ = await _connect(world, "ann")
    carl, _ = await _connect(world, "carl")
    dee, _ = await _connect(world, "dee")  # no calendar chosen: runs no pass
    await _activate(world, "ann", ann)
    await _activate(world, "carl", carl)
    sessionmaker = world.app.state.sessionmaker
    providers = ConnectionProviders(
        world.settings, sessionmaker, world.http, TokenCipher.from_settings(world.settings)
    )

    async def on_status(connection_id: uuid.UUID, status: ConnectionStatus, reason: str) -> None:
        await connection_status_changed(sessionmaker, world.settings, connection_id, status,
                                        reason)  # fmt: skip

    engine = SyncEngine(sessionmaker, providers, base_url=BASE, on_status=on_status)
    assert (await engine.run_pass(world.firm_id, ann.id)).outcome == "ok"

    world.google.withdraw_install(DOMAIN, "g-client")
    report = await engine.run_pass(world.firm_id, ann.id)
    assert report.outcome == "awaiting_consent", report.error
    row = await _row(world, ann.id)
    assert row.status is ConnectionStatus.AWAITING_CONSENT
    assert row.status_reason == GOOGLE_WAITING_REASON
    assert (await _install(world)).status == "required"
    assert (await _row(world, dee.id)).status is ConnectionStatus.AWAITING_CONSENT
    assert (await engine.run_pass(world.firm_id, carl.id)).outcome == "awaiting_consent"
    mine = await world.web.get("/calendar-sync", headers=_cookie(world, "ann"))
    assert "Awaiting admin consent" in mine.text
    theirs = await world.web.get("/calendar-sync", headers=_cookie(world, "admin"))
    assert "Install for the domain now" in theirs.text  # offered again
    assert 'id="workspace-install"' in mine.text
    asked = await world.web.post(
        f"/calendar-sync/connections/{ann.id}/request-approval", headers=_cookie(world, "ann"),
        data={"csrf_token": await _csrf(world, "ann")},
    )  # fmt: skip
    assert asked.status_code == 303, asked.text
    [mail] = world.inbox.to("admin@contoso.com")
    body = mail.get_content()
    assert f"{BASE}/firm-settings" in body
    assert "adminconsent" not in body  # not Microsoft's link
    # Signing in again is refused the same way until the admin installs again.
    again, _ = await _connect(world, "ann")
    assert again.status is ConnectionStatus.AWAITING_CONSENT


async def test_a_domain_recorded_for_microsoft_is_not_turned_into_a_google_install(
    world: World,
) -> None:
    """A Microsoft tenant recorded under its domain (when its discovery could not be read)
    keeps its row: the Google install of the same domain is refused, not merged into it."""
    _workspace(world)
    async with world.app.state.sessionmaker() as session:
        session.add(TenantConsent(id=uuid.uuid4(), firm_id=world.firm_id, tenant_id=DOMAIN))
        await session.commit()
    pressed = await world.web.post(
        "/calendar-sync/consents/google/install",
        data={"csrf_token": await _csrf(world, "admin")},
        headers=_cookie(world, "admin"),
    )
    back = await world.callback(
        "admin", "/oauth/google/install/callback",
        await world.provider_redirect(pressed.headers["location"]),
    )  # fmt: skip
    assert back.status_code < 500
    assert "recorded as a Microsoft 365 organisation" in back.text
    row = await _install(world)
    assert (row.provider, row.status) == (ProviderName.MICROSOFT, "required")
