"""Connecting a CalDAV calendar through the real pages, against Radicale started on loopback:
Connect offers CalDAV, the form shows the presets and how to make an app password for each, a
wrong app password is refused with the reason and keeps nothing, the right one leads to the
calendar choice; after activation a court date made in CaseCal lands on Radicale and an event
made on Radicale comes back, each in one engine pass (SQLite and PostgreSQL). The app
password is in no database row and no log line."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, csrf_of, post_form, signed_in_page

from casecal.emulators import caldav_servers
from casecal.emulators.caldav_servers import CalDavServer
from casecal.services.caldav_connect import connect_caldav
from casecal.services.case_entries import create_case_entry
from casecal.services.connect import activate
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import (
    Appointment,
    Backfill,
    Base,
    Connection,
    ConnectionStatus,
    CourtDate,
    Link,
    ProviderName,
    Role,
    SyncCursor,
)

PAGE = "/calendar-sync"
ELSEWHERE = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Phone//EN\r
BEGIN:VEVENT\r
UID:phone-call-1\r
DTSTAMP:20261201T000000Z\r
DTSTART:{start}\r
DTEND:{end}\r
SUMMARY:Call with the client\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDavServer]:
    server = caldav_servers.start("radicale", tmp_path_factory.mktemp("radicale"))
    yield server
    caldav_servers.remove(server)


@pytest.fixture
def fresh_radicale(radicale: CalDavServer) -> CalDavServer:
    radicale.set_password(caldav_servers.PASSWORD)
    radicale.reset_calendar()
    return radicale


def titles_on(server: CalDavServer) -> list[str]:
    found = []
    with server.client() as http:
        listing = http.request("PROPFIND", server.calendar_url, headers={"Depth": "1"})
        for href in listing.text.split("<href>")[1:]:
            path = href.split("</href>")[0]
            if path.endswith(".ics"):
                body = http.get(httpx.URL(server.calendar_url).join(path)).content
                found += [
                    str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
                ]
    return sorted(found)


async def _subscribe_and_seat(sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm) -> None:
    admin = firm.actor(firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, firm.cm1.id)


async def _dump(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """Every row of every table, as text (what a database dump holds)."""
    parts = []
    async with sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            parts += [repr(tuple(row)) for row in rows]
        if session.bind.dialect.name == "sqlite":
            names = (await session.execute(text("SELECT name FROM sqlite_master"))).all()
            parts += [repr(n) for n in names]
    return "\n".join(parts)


async def test_connect_with_an_app_password_then_both_ways(
    app: FastAPI,
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
    fresh_radicale: CalDavServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = fresh_radicale
    await _subscribe_and_seat(sessionmaker, ui_firm)
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    assert 'id="connect-caldav"' in page.text
    chosen = await post_form(client, page, f"{PAGE}/connect", provider="caldav")
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"{PAGE}/caldav"

    form = await client.get(f"{PAGE}/caldav")
    assert form.status_code == 200
    for name, url, how in (
        ("iCloud", "https://caldav.icloud.com/", "App-Specific Passwords"),
        ("Fastmail", "https://caldav.fastmail.com/", "New app password"),
        ("Nextcloud", "", "create a new app password"),
    ):
        assert name in form.text
        assert url in form.text
        assert how in form.text

    fields = {"preset": "other", "server_url": server.url, "username": server.username}
    wrong = await client.post(
        f"{PAGE}/caldav",
        data={**fields, "app_password": "not-it", "csrf_token": csrf_of(form.text)},
    )
    assert wrong.status_code == 400
    assert "refused the username and app password" in wrong.text
    assert "not-it" not in wrong.text
    async with sessionmaker() as session:
        assert (await session.scalars(select(Connection))).all() == []

    done = await client.post(
        f"{PAGE}/caldav",
        data={**fields, "app_password": server.password, "csrf_token": csrf_of(form.text)},
    )
    assert done.status_code == 303, done.text
    choice = await client.get(done.headers["location"], follow_redirects=True)
    assert choice.status_code == 200
    assert "Choose the calendar to keep in sync" in choice.text
    assert server.password not in choice.text
    async with sessionmaker() as session:
        conn = await session.scalar(select(Connection))
    assert conn is not None
    assert conn.provider is ProviderName.CALDAV
    assert conn.account_email == server.username
    assert f'"id": "{server.calendar_url}"' in choice.text.replace("&#34;", '"')

    activated = await post_form(
        client, choice, f"{PAGE}/connections/{conn.id}/calendar",
        calendar=json.dumps({"id": server.calendar_url, "name": "Calendar"}),
        backfill="upcoming",
    )  # fmt: skip
    assert activated.status_code == 303, activated.text
    panel = await client.get(PAGE)
    assert panel.status_code == 200, panel.text
    assert "CalDAV (iCloud, Fastmail, Nextcloud)" in panel.text

    soon = (datetime.now(UTC) + timedelta(days=7)).replace(hour=15, minute=0, second=0)
    admin = ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        await create_case_entry(
            session, admin, CourtDate,
            {"case_id": ui_firm.case_id, "hearing_type": "Master calendar hearing",
             "start_at": soon.replace(tzinfo=None), "court_name": "Immigration Court"},
        )  # fmt: skip
        await session.commit()
    report = await app.state.sync_engine.run_pass(ui_firm.id, conn.id)
    assert report.outcome == "ok", report
    on_server = titles_on(server)
    assert len(on_server) == 1
    assert "Master calendar hearing" in on_server[0]

    start = (soon + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    end = (soon + timedelta(days=1, hours=1)).strftime("%Y%m%dT%H%M%SZ")
    with server.client() as http:
        made = http.put(
            httpx.URL(server.calendar_url).join("phone-call-1.ics"),
            content=ELSEWHERE.format(start=start, end=end).encode(),
            headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
        )
        assert made.status_code == 201
    report = await app.state.sync_engine.run_pass(ui_firm.id, conn.id)
    assert report.outcome == "ok", report
    async with sessionmaker() as session:
        back = (
            await session.scalars(
                select(Appointment).where(Appointment.title == "Call with the client")
            )
        ).all()
        row = await session.get(Connection, conn.id)
    assert len(back) == 1
    assert back[0].owner_id == ui_firm.cm1.id
    assert row is not None
    assert row.status is ConnectionStatus.ACTIVE
    assert titles_on(server) == sorted([on_server[0], "Call with the client"])

    # The app password: in no row of any table and no log line (it is sealed on the row).
    dump = await _dump(sessionmaker)
    assert str(conn.id) in dump, "the dump holds the rows"
    assert server.password not in dump
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        assert server.password.encode() not in path.read_bytes()  # noqa: ASYNC240
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert logged, "something was logged"
    assert server.password not in logged
    assert uuid.UUID(str(conn.id))


async def test_an_expired_sync_token_is_a_full_round_that_deletes_nothing(
    app: FastAPI,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
    fresh_radicale: CalDavServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Radicale forgets its sync tokens while another client adds an event: the next pass
    meets 403 valid-sync-token, lists the calendar in full, keeps every link and imports the
    new event; the pass after it is incremental again."""
    server = fresh_radicale
    await _subscribe_and_seat(sessionmaker, ui_firm)
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        outcome = await connect_caldav(
            session, app.state.settings, app.state.http, cm1, preset="other",
            server_url=server.url, username=server.username, app_password=server.password,
        )  # fmt: skip
        assert outcome.kind == "choose_calendar", outcome.message
        assert outcome.connection_id is not None
        conn_id = outcome.connection_id
        await activate(
            session, cm1, conn_id, calendar_id=server.calendar_url, calendar_name="Calendar",
            step_reminders=False, backfill=Backfill.UPCOMING,
        )  # fmt: skip
    soon = (datetime.now(UTC) + timedelta(days=5)).replace(hour=14, minute=0, second=0)
    admin = ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        await create_case_entry(
            session, admin, CourtDate,
            {"case_id": ui_firm.case_id, "hearing_type": "Bond hearing",
             "start_at": soon.replace(tzinfo=None), "court_name": "Immigration Court"},
        )  # fmt: skip
        await session.commit()
    assert (await app.state.sync_engine.run_pass(ui_firm.id, conn_id)).outcome == "ok"
    async with sessionmaker() as session:
        links_before = (
            await session.scalars(select(Link).where(Link.connection_id == conn_id))
        ).all()
        cursor_before = await session.get(SyncCursor, conn_id)
    assert len(links_before) == 1
    assert cursor_before is not None
    assert cursor_before.cursor is not None

    start = (soon + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    end = (soon + timedelta(days=1, hours=1)).strftime("%Y%m%dT%H%M%SZ")
    with server.client() as http:
        made = http.put(
            httpx.URL(server.calendar_url).join("phone-call-1.ics"),
            content=ELSEWHERE.format(start=start, end=end).encode(),
            headers={"Content-Type": "text/calendar"},
        )
        assert made.status_code == 201
    for cache in (server.root / "storage").rglob(".Radicale.cache"):
        shutil.rmtree(cache / "sync-token", ignore_errors=True)

    caplog.set_level(logging.INFO)
    capsys.readouterr()
    report = await app.state.sync_engine.run_pass(ui_firm.id, conn_id)
    assert report.outcome == "ok", report
    out = capsys.readouterr()
    assert "cursor expired; full resync" in caplog.text + out.out + out.err
    async with sessionmaker() as session:
        links = (await session.scalars(select(Link).where(Link.connection_id == conn_id))).all()
        court = (await session.scalars(select(CourtDate))).all()
        back = (
            await session.scalars(
                select(Appointment).where(Appointment.title == "Call with the client")
            )
        ).all()
        cursor = await session.get(SyncCursor, conn_id)
    assert len(court) == 1, "nothing deleted on the host"
    assert len(back) == 1, "the event added meanwhile came in through the full round"
    assert {link.remote_id for link in links} >= {link.remote_id for link in links_before}
    assert all(link.tombstoned_at is None for link in links), "nothing settled as gone"
    assert len(titles_on(server)) == 2, "nothing deleted on the server"
    assert cursor is not None
    assert cursor.cursor not in (None, cursor_before.cursor)
    assert (await app.state.sync_engine.run_pass(ui_firm.id, conn_id)).outcome == "ok"
