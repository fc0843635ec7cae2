"""Setup > Subscriptions > Calendar Sync over HTTP: who sees what, the admin's subscription
and seat forms, the case manager's Connect, and the status panel of a seeded connection with
its sync log, conflicts and the actions that fix each state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, csrf_of, post_form, signed_in_page

from casecal.services.appointments import create_appointment
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import (
    Appointment,
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    ProviderName,
    Role,
    Seat,
    Subscription,
    SubscriptionStatus,
    SyncRun,
)

PAGE = "/calendar-sync"


async def _subscribe_and_seat(
    sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm, *seated: uuid.UUID
) -> None:
    admin = firm.actor(firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        for user_id in seated:
            await add_seat(session, admin, user_id)


async def test_admin_subscribes_activates_and_manages_seats(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    assert "Subscribe to Calendar Sync" in page.text
    assert "Carla Manager" in page.text
    assert "Dan Manager" in page.text
    managers = page.text.split('id="seats-title"')[1].split("</section>")[0]
    assert "Sam Staff" not in managers  # staff are not case managers (the audit log names them)

    done = await post_form(client, page, f"{PAGE}/subscription/request")
    assert done.headers["location"] == f"{PAGE}?done=subscribed"
    page = await client.get(done.headers["location"])
    assert "Calendar Sync requested" in page.text
    assert 'id="subscription-status">Requested' in page.text

    done = await post_form(client, page, f"{PAGE}/subscription/activate")
    page = await client.get(done.headers["location"])
    assert 'id="subscription-status">Active' in page.text

    done = await post_form(client, page, f"{PAGE}/seats", user_id=str(ui_firm.cm1.id))
    assert done.headers["location"] == f"{PAGE}?done=seat-added"
    page = await client.get(done.headers["location"])
    assert f'action="{PAGE}/seats/{ui_firm.cm1.id}/remove"' in page.text
    assert "Not connected" in page.text
    async with sessionmaker() as session:
        sub = await session.scalar(select(Subscription))
        seats = list(await session.scalars(select(Seat.user_id)))
    assert sub is not None
    assert sub.status is SubscriptionStatus.ACTIVE
    assert seats == [ui_firm.cm1.id]

    done = await post_form(client, page, f"{PAGE}/seats/{ui_firm.cm1.id}/remove")
    assert done.headers["location"] == f"{PAGE}?done=seat-removed"
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Seat))) == []


async def test_a_refused_form_shows_the_reason_on_the_page(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _subscribe_and_seat(sessionmaker, ui_firm, ui_firm.cm1.id)
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    again = await client.post(
        f"{PAGE}/seats", data={"csrf_token": csrf_of(page.text), "user_id": str(ui_firm.cm1.id)}
    )
    assert again.status_code == 409
    assert "already has a seat" in again.text
    assert 'role="alert"' in again.text


async def test_case_manager_without_a_seat_is_told_to_ask_the_admin(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _subscribe_and_seat(sessionmaker, ui_firm, ui_firm.cm1.id)
    page = await signed_in_page(client, ui_firm.cm2.email, PAGE)
    assert "No Calendar Sync seat yet" in page.text
    assert 'action="/calendar-sync/connect"' not in page.text


async def test_case_manager_cannot_use_admin_forms(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert "Subscribe to Calendar Sync" not in page.text
    refused = await client.post(
        f"{PAGE}/subscription/request", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    assert "only a firm admin may subscribe" in refused.text
    async with sessionmaker() as session:
        assert await session.scalar(select(Subscription)) is None


async def test_seated_case_manager_connects_microsoft_with_pkce(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _subscribe_and_seat(sessionmaker, ui_firm, ui_firm.cm1.id)
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert "Microsoft 365 / Exchange" in page.text
    assert "Sign in with Google" in page.text
    started = await post_form(client, page, f"{PAGE}/connect", provider="microsoft")
    assert started.status_code == 303
    url = urlsplit(started.headers["location"])
    query = parse_qs(url.query)
    assert url.path.endswith("/oauth2/v2.0/authorize")
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/oauth/microsoft/callback"]
    assert query["login_hint"] == [ui_firm.cm1.email]
    async with sessionmaker() as session:
        row = await session.scalar(select(Connection))
    assert row is not None
    assert row.status is ConnectionStatus.PENDING


async def _seed_connection(
    sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm, status: ConnectionStatus
) -> uuid.UUID:
    conn_id = uuid.uuid4()
    async with sessionmaker() as session:
        session.add(
            Connection(
                id=conn_id, firm_id=firm.id, user_id=firm.cm1.id, provider=ProviderName.MICROSOFT,
                status=status, account_email=firm.cm1.email, calendar_id="cal-1",
                calendar_name="Work calendar", tenant_id="contoso-tenant",
                last_authorized_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                last_sync_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
                status_reason="" if status is ConnectionStatus.ACTIVE else "seeded",
            )
        )  # fmt: skip
        await session.flush()
        session.add(
            SyncRun(
                firm_id=firm.id, connection_id=conn_id, trigger="poll", outcome="ok",
                started_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
                finished_at=datetime(2026, 3, 2, 10, 31, tzinfo=UTC),
                counts={"in": {"appointment": {"create": 2}}, "out": {"court_date": {"create": 3}}},
            )
        )  # fmt: skip
        session.add(
            ConflictRecord(
                firm_id=firm.id, connection_id=conn_id, entry_kind=EntryKind.APPOINTMENT,
                entry_id=uuid.uuid4(), winner="remote",
                winner_snapshot={"title": "Client call (moved)"},
                loser_snapshot={"title": "Client call", "start": "2026-03-04T15:00:00+00:00"},
            )
        )  # fmt: skip
        await session.commit()
    return conn_id


@pytest.mark.parametrize(
    ("status", "label", "buttons"),
    [
        (ConnectionStatus.ACTIVE, "Active", ["sync", "modify", "disconnect"]),
        (ConnectionStatus.NEEDS_REAUTH, "Needs re-authorisation", ["modify", "disconnect"]),
        (ConnectionStatus.AWAITING_CONSENT, "Awaiting admin consent", ["modify", "disconnect"]),
        (ConnectionStatus.PAUSED_DELETIONS, "Paused by the deletion guard",
         ["confirm-deletions", "disconnect"]),
    ],
)  # fmt: skip
async def test_status_panel_shows_the_state_and_the_action_that_fixes_it(
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
    status: ConnectionStatus,
    label: str,
    buttons: list[str],
) -> None:
    conn_id = await _seed_connection(sessionmaker, ui_firm, status)
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert f'id="connection-state">{label}<' in page.text
    # Times read in the viewer's zone (the firm's, America/New_York, by default).
    for fact in ("Microsoft 365 / Exchange", ui_firm.cm1.email, "Work calendar",
                 "Sun 01 Mar 2026", "Mon 02 Mar 2026, 05:30 EST", "2 in, 3 out"):  # fmt: skip
        assert fact in page.text
    offered = {a for a in ("sync", "modify", "disconnect", "confirm-deletions")
               if f'action="{PAGE}/connections/{conn_id}/{a}"' in page.text}  # fmt: skip
    assert offered == set(buttons)
    assert "Client call (moved)" in page.text  # the conflict, with its restore button
    assert "/restore" in page.text
    assert ("contoso-tenant" in page.text) is (status is ConnectionStatus.AWAITING_CONSENT)


async def test_confirm_deletions_resumes_a_paused_connection(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conn_id = await _seed_connection(sessionmaker, ui_firm, ConnectionStatus.PAUSED_DELETIONS)
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    done = await post_form(client, page, f"{PAGE}/connections/{conn_id}/confirm-deletions")
    assert done.headers["location"] == f"{PAGE}?done=confirmed"
    page = await client.get(done.headers["location"])
    assert 'id="connection-state">Active<' in page.text


async def test_another_managers_connection_is_not_theirs_to_touch(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conn_id = await _seed_connection(sessionmaker, ui_firm, ConnectionStatus.PAUSED_DELETIONS)
    page = await signed_in_page(client, ui_firm.cm2.email, PAGE)
    assert "Work calendar" not in page.text
    refused = await client.post(
        f"{PAGE}/connections/{conn_id}/confirm-deletions", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 404
    async with sessionmaker() as session:
        row = await session.get(Connection, conn_id)
        assert row is not None
        assert row.status is ConnectionStatus.PAUSED_DELETIONS


async def test_admin_sees_each_managers_connection_at_a_glance(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _subscribe_and_seat(sessionmaker, ui_firm, ui_firm.cm1.id, ui_firm.cm2.id)
    await _seed_connection(sessionmaker, ui_firm, ConnectionStatus.NEEDS_REAUTH)
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    row = page.text.split("Carla Manager", 1)[1].split("</tr>", 1)[0]
    assert "Needs re-authorisation" in row
    other = page.text.split("Dan Manager", 1)[1].split("</tr>", 1)[0]
    assert "Not connected" in other


async def test_staff_sees_no_admin_controls(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _subscribe_and_seat(sessionmaker, ui_firm)
    page = await signed_in_page(client, ui_firm.staff.email, PAGE)
    assert "No Calendar Sync seat yet" in page.text
    assert "/seats" not in page.text


async def test_restore_puts_the_losing_version_back(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conn_id = await _seed_connection(sessionmaker, ui_firm, ConnectionStatus.ACTIVE)
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        made = await create_appointment(session, cm1, {
            "title": "Client call (moved)", "start_at": datetime(2026, 3, 4, 16, tzinfo=UTC),
            "end_at": datetime(2026, 3, 4, 17, tzinfo=UTC)})  # fmt: skip
        record = ConflictRecord(
            firm_id=ui_firm.id, connection_id=conn_id, entry_kind=EntryKind.APPOINTMENT,
            entry_id=made.id, winner="remote", winner_snapshot={"title": "Client call (moved)"},
            loser_snapshot={"title": "Client call", "start": "2026-03-04T15:00:00+00:00",
                            "end": "2026-03-04T16:00:00+00:00", "time_zone": "UTC"},
        )  # fmt: skip
        session.add(record)
        await session.commit()
        appointment_id, record_id = made.id, record.id
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    done = await post_form(client, page, f"{PAGE}/conflicts/{record_id}/restore")
    assert done.headers["location"] == f"{PAGE}?done=restored"
    async with sessionmaker() as session:
        restored = await session.get(Appointment, appointment_id)
        kept = await session.get(ConflictRecord, record_id)
    assert restored is not None
    assert restored.title == "Client call"
    assert restored.start_at == datetime(2026, 3, 4, 15, tzinfo=UTC)
    assert kept is not None
    assert kept.restored_at is not None
    page = await client.get(done.headers["location"])
    assert f"/conflicts/{record_id}/restore" not in page.text
