"""The Calendar Sync pages show one state, the right one: an authorisation left unfinished reads
as such with Connect again, a consent the admin granted replaces "awaiting consent", a paused
connection says why and what fixes it (on both pages), and a cancelled subscription shows when
it was cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, csrf_of, post_form, signed_in_page

from casecal.services.consents import READY_REASON
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    EntryKind,
    Link,
    ProviderName,
    Role,
    Subscription,
    SubscriptionStatus,
    TenantConsent,
)

PAGE = "/calendar-sync"


async def _seat(sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm) -> None:
    admin = firm.actor(firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, firm.cm1.id)


async def _connection(
    sessionmaker: async_sessionmaker[AsyncSession],
    firm: UiFirm,
    status: ConnectionStatus,
    **fields: object,
) -> uuid.UUID:
    conn_id = uuid.uuid4()
    async with sessionmaker() as session:
        session.add(
            Connection(id=conn_id, firm_id=firm.id, user_id=firm.cm1.id,
                       provider=ProviderName.MICROSOFT, status=status, **fields)
        )  # fmt: skip
        await session.commit()
    return conn_id


async def test_an_unfinished_authorisation_offers_connect_again(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seat(sessionmaker, ui_firm)
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    started = await post_form(client, page, f"{PAGE}/connect", provider="google")
    assert started.status_code == 303  # off to Google; the user never comes back
    async with sessionmaker() as session:
        conn_id = await session.scalar(select(Connection.id))
    page = await client.get(PAGE)
    assert 'id="connection-state">Connection not finished<' in page.text
    assert "did not finish signing in" in page.text
    for stale in ("Choose a calendar", "the account is authorised", "Last authenticated"):
        assert stale not in page.text
    assert f'action="{PAGE}/connections/{conn_id}/modify"' in page.text
    assert ">Connect again</button>" in page.text
    assert ">Cancel</button>" in page.text

    choose = await client.get(f"{PAGE}/connections/{conn_id}/calendar")
    assert choose.status_code == 303  # not "this connection is not authorised yet"
    assert choose.headers["location"] == PAGE

    again = await post_form(client, page, f"{PAGE}/connections/{conn_id}/modify")
    assert again.status_code == 303
    assert "code_challenge=" in again.headers["location"]  # back to Google's sign-in


async def test_after_the_admin_consents_the_manager_sees_one_state(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seat(sessionmaker, ui_firm)
    conn_id = await _connection(
        sessionmaker, ui_firm, ConnectionStatus.AWAITING_CONSENT,
        tenant_id="contoso-tenant", status_reason=READY_REASON,
    )  # fmt: skip
    async with sessionmaker() as session:
        consent = TenantConsent(firm_id=ui_firm.id, tenant_id="contoso-tenant", status="consented")
        session.add(consent)
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert 'id="connection-state">Approved: finish connecting<' in page.text
    assert "Awaiting admin consent" not in page.text
    assert "Approval required" not in page.text
    assert 'id="my-consent-url"' not in page.text  # no link to send to IT any more
    assert "Last authenticated" not in page.text  # never authorised: no empty facts
    assert f'action="{PAGE}/connections/{conn_id}/modify"' in page.text


async def test_while_consent_is_awaited_the_link_is_offered(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seat(sessionmaker, ui_firm)
    await _connection(sessionmaker, ui_firm, ConnectionStatus.AWAITING_CONSENT,
                      tenant_id="contoso-tenant", status_reason="waiting")  # fmt: skip
    async with sessionmaker() as session:
        session.add(TenantConsent(firm_id=ui_firm.id, tenant_id="contoso-tenant"))
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert 'id="connection-state">Awaiting admin consent<' in page.text
    assert 'id="my-consent-url"' in page.text


@pytest.mark.parametrize(
    ("status", "label", "manager_fix", "admin_fix"),
    [
        (ConnectionStatus.PAUSED_NO_SEAT, "Paused: no seat", "Ask your firm admin for a seat",
         "Add the seat again to resume"),
        (ConnectionStatus.PAUSED_SUBSCRIPTION, "Paused: subscription cancelled",
         "when your firm admin subscribes again", "Subscribe again to resume"),
    ],
)  # fmt: skip
async def test_a_paused_connection_says_why_and_what_fixes_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
    status: ConnectionStatus,
    label: str,
    manager_fix: str,
    admin_fix: str,
) -> None:
    await _seat(sessionmaker, ui_firm)
    conn_id = await _connection(
        sessionmaker, ui_firm, status, account_email=ui_firm.cm1.email, calendar_id="cal-1",
        calendar_name="Work calendar", refresh_token_enc="x", status_reason="",
    )  # fmt: skip
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert f'id="connection-state">{label}<' in page.text
    assert manager_fix in page.text
    assert "nothing was deleted from your calendar" in page.text
    assert f'action="{PAGE}/connections/{conn_id}/sync"' not in page.text

    admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with admin:
        page = await signed_in_page(admin, ui_firm.admin.email, PAGE)
    row = page.text.split("Carla Manager", 1)[1].split("</tr>", 1)[0]
    assert label in row
    assert admin_fix in row


async def test_a_cancelled_subscription_shows_when_it_was_cancelled(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        session.add(Subscription(
            firm_id=ui_firm.id, status=SubscriptionStatus.CANCELLED,
            requested_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
            activated_at=datetime(2026, 1, 6, 15, tzinfo=UTC),
            cancelled_at=datetime(2026, 2, 10, 15, tzinfo=UTC),
        ))  # fmt: skip
        await session.commit()
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    assert 'id="subscription-status">Cancelled' in page.text
    assert "since Tue 10 Feb 2026, 10:00 EST" in page.text
    assert "06 Jan 2026" not in page.text


async def test_the_admin_asks_for_a_clean_up_of_a_paused_calendar_and_is_asked_to_confirm(
    app: FastAPI,
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _seat(sessionmaker, ui_firm)
    conn_id = await _connection(
        sessionmaker, ui_firm, ConnectionStatus.PAUSED_NO_SEAT, account_email=ui_firm.cm1.email,
        calendar_id="cal-1", refresh_token_enc="x",
    )  # fmt: skip
    async with sessionmaker() as session:
        session.add_all(
            Link(firm_id=ui_firm.id, connection_id=conn_id, entry_kind=EntryKind.COURT_DATE,
                 entry_id=uuid.uuid4(), remote_id=f"remote-{n}")
            for n in range(30)
        )  # fmt: skip
        await session.commit()
    manager = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with manager:
        own = await signed_in_page(manager, ui_firm.cm1.email, PAGE)
        refused = await manager.post(f"{PAGE}/connections/{conn_id}/cleanup",
                                     data={"csrf_token": csrf_of(own.text)})  # fmt: skip
    assert refused.status_code == 403

    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    asked = await post_form(client, page, f"{PAGE}/connections/{conn_id}/cleanup")
    assert asked.headers["location"] == f"{PAGE}?done=cleanup-confirm"  # 30 events: the guard
    page = await client.get(asked.headers["location"])
    assert "confirm it on the case manager&#39;s row" in page.text
    row = page.text.split("Carla Manager", 1)[1].split("</tr>", 1)[0]
    assert "Confirm: remove 30 events CaseCal created" in row
    assert 'name="confirm" value="true"' in row
    async with sessionmaker() as session:
        conn = await session.get(Connection, conn_id)
        assert conn is not None
        assert conn.status is ConnectionStatus.PAUSED_NO_SEAT  # nothing resumed
        assert conn.cleanup_requested_at is not None
