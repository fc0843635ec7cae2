"""The firm's choice reaches Graph through the stored connection (connector.py): by default an
appointment with attendees is pushed without mailing anyone (the attendees are a body line,
and the next pass sees no change), and a firm that lists "appointment" in
``graph_invite_attendees`` has Graph invite them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.services.firms import create_firm
from casecal.store.tables import Backfill, Connection, ConnectionStatus, Firm, ProviderName
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine

BASE = "http://graph.test"
CLIENT_ID, SECRET = "casecal-client", "casecal-secret"
SCOPES = ["Calendars.ReadWrite", "User.Read", "offline_access"]
UPN = "admin@firm.test"
CONSULTATION = {
    "title": "Client consultation",
    "start_at": "2026-12-10T15:00:00Z",
    "end_at": "2026-12-10T16:00:00Z",
    "attendees": [{"email": "maria@client.example", "name": "Maria Lopez"}],
}


@contextmanager
def settings_reads(sessionmaker: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """Statements that read settings, other than the pass's first (its connection's)."""
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = " ".join(args[2].split())
        if "FROM connections" not in statement and (
            "setting_values" in statement or "SELECT firms.settings" in statement
        ):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_attendees_are_invited_only_when_the_firm_opts_in(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, secret_keys=["k"], microsoft_graph_base_url=BASE,
        microsoft_auth_base_url=BASE, microsoft_client_id=CLIENT_ID,
        microsoft_client_secret=SECRET,
    )  # fmt: skip
    emu = MicrosoftEmulator(seed=5)
    tenant = emu.add_tenant(domain="firm.test")
    oid = emu.add_user(tenant, UPN, "Ada Admin")
    emu.register_app(CLIENT_ID, SECRET, ["http://testserver/cb"])
    issued = emu.issue_tokens(UPN, CLIENT_ID, SCOPES)
    cipher = TokenCipher.from_settings(settings)
    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as session:
        firm = await create_firm(session, name="F", admin_email=UPN, admin_name="Ada")
    connection = Connection(
        id=uuid.uuid4(), firm_id=firm.firm_id, user_id=firm.admin_user_id,
        provider=ProviderName.MICROSOFT, status=ConnectionStatus.ACTIVE, tenant_id=tenant,
        account_email=UPN, calendar_id=emu.state.users[oid].default_calendar_id,
        backfill=Backfill.UPCOMING, activated_at=datetime.now(UTC) - timedelta(minutes=1),
        refresh_token_enc=cipher.encrypt(issued["refresh_token"]),
    )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        session.add(connection)
    auth = {"Authorization": f"Bearer {firm.token}"}
    made = await client.post("/api/v1/appointments", json=CONSULTATION, headers=auth)
    assert made.status_code == 201, made.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app)) as http:
        providers = ConnectionProviders(settings, sessionmaker, http, cipher)
        engine = SyncEngine(sessionmaker, providers, base_url="http://testserver")
        report = await engine.run_pass(firm.firm_id, connection.id)
        assert report.outcome == "ok", report.error
        (pushed,) = emu.events(oid)
        assert pushed["attendees"] == []
        assert "Maria Lopez &lt;maria@client.example&gt;" in pushed["body"]["content"]  # html
        assert emu.sent_messages() == []
        with settings_reads(sessionmaker) as reads:
            again = await engine.run_pass(firm.firm_id, connection.id)  # no echo, nothing new
        assert again.outcome == "ok", again.error
        assert reads == []  # the adapter takes the settings the pass read with its connection
        assert (await client.get(f"/api/v1/appointments/{made.json()['id']}", headers=auth)).json()[
            "attendees"
        ] == [{"email": "maria@client.example", "name": "Maria Lopez"}]

        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(Firm)
                .where(Firm.id == firm.firm_id)
                .values(settings={"graph_invite_attendees": ["appointment"]})
            )
        url = f"/api/v1/appointments/{made.json()['id']}"
        moved = await client.patch(url, json={"title": "Consultation (moved)"}, headers=auth)
        assert moved.status_code == 200, moved.text
        report = await engine.run_pass(firm.firm_id, connection.id)
        assert report.outcome == "ok", report.error
        assert [(m.kind, m.to) for m in emu.sent_messages()] == [
            ("invitation", "maria@client.example")
        ]
