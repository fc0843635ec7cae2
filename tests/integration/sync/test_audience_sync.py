"""Who gets what (MAPPINGS.md): a reassigned case's entries leave the old case manager's calendar
and arrive in the new one's; step reminders go only to connections that opted in."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from casecal.emulators.google import GoogleEmulator
from casecal.providers.base import Provider
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.tokens import RefreshingTokenSource
from casecal.services.firms import create_firm
from casecal.store.tables import Backfill, Connection, ConnectionStatus, ProviderName
from casecal.sync.engine import SyncEngine

BASE = "http://google.test"
SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.events"]
SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=4)


async def _world(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        firm = await create_firm(session, name="F", admin_email="a@aud.example", admin_name="A")
    admin = {"Authorization": f"Bearer {firm.token}"}
    emu = GoogleEmulator(seed=5)
    emu.register_client("cid", "secret", ["http://testserver/cb"])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url=BASE)
    providers: dict[uuid.UUID, Provider] = {}
    managers: dict[str, dict[str, Any]] = {}
    for name in ("one", "two"):
        email = f"{name}@aud.example"
        user = (await client.post("/api/v1/users", headers=admin, json={
            "email": email, "name": name, "role": "case_manager"})).json()  # fmt: skip
        emu.add_account(email)
        issued = emu.issue_tokens(email, "cid", SCOPES)
        tokens = RefreshingTokenSource(
            http, f"{BASE}/token", client_id="cid", client_secret="secret",
            refresh_token=issued["refresh_token"], access_token=issued["access_token"],
            expires_at=time.time() + 3000, provider="google",
        )  # fmt: skip
        connection_id = uuid.uuid4()
        providers[connection_id] = GoogleCalendarProvider(http, tokens, api_base_url=BASE)
        async with app.state.sessionmaker() as session, session.begin():
            session.add(Connection(
                id=connection_id, firm_id=firm.firm_id, user_id=uuid.UUID(user["id"]),
                provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                calendar_id=email, backfill=Backfill.UPCOMING, activated_at=datetime.now(UTC),
                step_reminders=name == "two",
            ))  # fmt: skip
        managers[name] = {"user": user, "email": email, "connection_id": connection_id}

    async def provider_for(connection: Connection) -> Provider:
        return providers[connection.id]

    engine = SyncEngine(app.state.sessionmaker, provider_for, base_url="http://testserver")

    async def sync_all() -> None:
        for manager in managers.values():
            report = await engine.run_pass(firm.firm_id, manager["connection_id"])
            assert report.outcome == "ok", report.error

    def titles(name: str) -> list[str]:
        return sorted(e.get("summary", "") for e in emu.events(managers[name]["email"]))

    return {"admin": admin, "managers": managers, "sync_all": sync_all, "titles": titles,
            "http": http}  # fmt: skip


async def test_reassigned_case_moves_its_entries(app: FastAPI, client: httpx.AsyncClient) -> None:
    world = await _world(app, client)
    admin, managers = world["admin"], world["managers"]
    case = (await client.post("/api/v1/cases", headers=admin, json={
        "number": "R-1", "beneficiary": "Omar Haddad",
        "manager_ids": [managers["one"]["user"]["id"]]})).json()  # fmt: skip
    await client.post("/api/v1/court-dates", headers=admin, json={
        "case_id": case["id"], "hearing_type": "Individual Hearing",
        "start_at": SOON.isoformat(), "time_zone": "America/Chicago"})  # fmt: skip
    await world["sync_all"]()
    court = "Court: Individual Hearing - Omar Haddad (R-1)"
    assert world["titles"]("one") == [court]
    assert world["titles"]("two") == []
    new_managers = {"manager_ids": [managers["two"]["user"]["id"]]}
    reassigned = await client.patch(f"/api/v1/cases/{case['id']}", headers=admin, json=new_managers)
    assert reassigned.status_code == 200, reassigned.text
    await world["sync_all"]()
    assert world["titles"]("one") == []
    assert world["titles"]("two") == [court]
    await world["http"].aclose()


async def test_step_reminders_only_where_opted_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    world = await _world(app, client)
    admin, managers = world["admin"], world["managers"]
    case = (await client.post("/api/v1/cases", headers=admin, json={
        "number": "S-1", "beneficiary": "Mei Tan",
        "manager_ids": [m["user"]["id"] for m in managers.values()]})).json()  # fmt: skip
    due = (SOON + timedelta(days=7)).date()
    made = await client.post("/api/v1/step-reminders", headers=admin, json={
        "case_id": case["id"], "step_name": "File I-130", "due_date": due.isoformat()})  # fmt: skip
    assert made.status_code == 201, made.text
    await world["sync_all"]()
    assert world["titles"]("one") == []  # "one" did not opt in
    assert world["titles"]("two") == ["Reminder: File I-130 - Mei Tan (S-1)"]
    await world["http"].aclose()
