"""A stored connection drives the real adapter: tokens are decrypted from the database, the
refreshed ones stored encrypted again, and a revoked grant turns the connection to
"needs re-authorisation" at once, with no further provider requests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.emulators.google import GoogleEmulator
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Backfill,
    Connection,
    ConnectionStatus,
    ProviderName,
    User,
)
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine

BASE = "http://google.test"
SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.events"]


async def _setup(
    app: FastAPI, tmp_path: Path
) -> tuple[GoogleEmulator, SyncEngine, Connection, str]:
    settings = Settings(
        data_dir=tmp_path, secret_keys=["k-new", "k-old"], google_api_base_url=BASE,
        google_token_url=f"{BASE}/token", google_client_id="cid", google_client_secret="csecret",
    )  # fmt: skip
    emu = GoogleEmulator(seed=3)
    emu.add_account("cm@conn.example")
    emu.register_client("cid", "csecret", ["http://testserver/cb"])
    issued = emu.issue_tokens("cm@conn.example", "cid", SCOPES)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url=BASE)
    cipher = TokenCipher.from_settings(settings)
    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as session:
        firm = await create_firm(session, name="F", admin_email="a@conn.example", admin_name="A")
    connection = Connection(
        id=uuid.uuid4(), firm_id=firm.firm_id, user_id=firm.admin_user_id,
        provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
        calendar_id="cm@conn.example", backfill=Backfill.UPCOMING,
        activated_at=datetime.now(UTC) - timedelta(minutes=1),
        refresh_token_enc=cipher.encrypt(issued["refresh_token"]),
    )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        session.add(connection)
    providers = ConnectionProviders(settings, sessionmaker, http, cipher)
    engine = SyncEngine(sessionmaker, providers, base_url="http://testserver")
    return emu, engine, connection, issued["refresh_token"]


async def _database_text(app: FastAPI) -> str:
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM connections"))
        return repr(rows.all())


async def test_tokens_are_refreshed_and_stored_encrypted(app: FastAPI, tmp_path: Path) -> None:
    emu, engine, connection, refresh_token = await _setup(app, tmp_path)
    report = await engine.run_pass(connection.firm_id, connection.id)
    assert report.outcome == "ok", report.error
    assert emu.log.count("POST", "/token") == 1  # no access token stored: one refresh
    dump = await _database_text(app)
    assert refresh_token not in dump
    async with app.state.sessionmaker() as session:
        row = await session.get(Connection, connection.id)
        assert row is not None
        assert row.access_token_enc
        assert row.access_token_expires_at is not None
    second = await engine.run_pass(connection.firm_id, connection.id)
    assert second.outcome == "ok"
    assert emu.log.count("POST", "/token") == 1  # the stored access token was reused


async def test_revoked_grant_needs_reauth_and_stops_calling(app: FastAPI, tmp_path: Path) -> None:
    emu, engine, connection, refresh_token = await _setup(app, tmp_path)
    assert (await engine.run_pass(connection.firm_id, connection.id)).outcome == "ok"
    emu.revoke(refresh_token)
    emu.expire_access_tokens()
    report = await engine.run_pass(connection.firm_id, connection.id)
    assert report.outcome == "needs_reauth", report
    async with app.state.sessionmaker() as session:
        row = await session.get(Connection, connection.id)
        assert row is not None
        assert row.status is ConnectionStatus.NEEDS_REAUTH
    emu.log.clear()
    again = await engine.run_pass(connection.firm_id, connection.id)
    assert again.outcome == "skipped:needs_reauth"
    assert emu.log.entries == []


async def test_other_users_rows_are_untouched(app: FastAPI, tmp_path: Path) -> None:
    _emu, engine, connection, _ = await _setup(app, tmp_path)
    await engine.run_pass(connection.firm_id, connection.id)
    async with app.state.sessionmaker() as session:
        owner = await session.get(User, connection.user_id)
        assert owner is not None
        assert owner.firm_id == connection.firm_id


async def test_every_request_draws_on_the_firms_budget(app: FastAPI, tmp_path: Path) -> None:
    """The adapter a connection gets paces its requests on its firm's budget (shared by the
    firm's connections, kept across passes); another firm has its own. Token requests go to
    the identity endpoint and are not API quota."""
    emu, engine, connection, _ = await _setup(app, tmp_path)
    providers = engine.provider_for
    assert isinstance(providers, ConnectionProviders)
    assert providers.firms is not None
    budget = providers.firms.of(str(connection.firm_id))
    before = budget.available()
    emu.log.clear()
    assert (await engine.run_pass(connection.firm_id, connection.id)).outcome == "ok"
    api_calls = [e for e in emu.log.entries if e.path.startswith("/calendar/")]
    assert api_calls
    assert before - budget.available() == len(api_calls)
    assert providers.firms.of(str(uuid.uuid4())) is not budget
    adapter = await providers(connection)
    assert budget in adapter.http.budgets  # type: ignore[attr-defined]
