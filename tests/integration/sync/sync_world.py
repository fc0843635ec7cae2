"""The world of an engine test: a firm, a case manager with an active connection, the emulated
provider and the engine. Host edits go through the REST API, remote edits through the emulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from remotes import Remote, make_remote
from sqlalchemy import delete, select, update

from casecal.providers.base import Provider
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Backfill,
    ConflictRecord,
    Connection,
    ConnectionStatus,
    Link,
    OutboxRow,
    ProviderName,
)
from casecal.sync.engine import PassReport, SyncEngine

EMAIL = "cm@sync.example"


@dataclass
class World:
    app: FastAPI
    api: httpx.AsyncClient
    remote: Remote
    engine: SyncEngine
    firm_id: uuid.UUID
    user_id: uuid.UUID
    connection_id: uuid.UUID
    admin: dict[str, str]
    manager: dict[str, str]
    case_id: str

    async def sync(self) -> PassReport:
        return await self.engine.run_pass(self.firm_id, self.connection_id)

    async def post(self, path: str, body: dict[str, Any], *, as_admin: bool = False) -> Any:
        headers = self.admin if as_admin else self.manager
        response = await self.api.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def patch(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.api.patch(f"/api/v1{path}", json=body, headers=self.manager)
        assert response.status_code == 200, response.text
        return response.json()

    async def delete(self, path: str) -> None:
        response = await self.api.delete(f"/api/v1{path}", headers=self.manager)
        assert response.status_code == 204, response.text

    async def appointments(self) -> list[dict[str, Any]]:
        response = await self.api.get(
            "/api/v1/appointments", params={"limit": 200}, headers=self.manager
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def titles(self) -> list[str]:
        return sorted(item.title for item in self.remote.items())

    async def links(self) -> list[Link]:
        async with self.app.state.sessionmaker() as session:
            return list((await session.scalars(select(Link))).all())

    async def conflicts(self) -> list[ConflictRecord]:
        async with self.app.state.sessionmaker() as session:
            return list((await session.scalars(select(ConflictRecord))).all())

    async def connection(self) -> Connection:
        async with self.app.state.sessionmaker() as session:
            row = await session.get(Connection, self.connection_id)
            assert row is not None
            return row

    async def simulate_crash_before_link_save(self) -> None:
        """Undo what a pass saves after its remote writes: the links and the outbox acks."""
        async with self.app.state.sessionmaker() as session, session.begin():
            await session.execute(delete(Link))
            await session.execute(update(OutboxRow).values(processed_at=None))

    async def update_connection(self, **values: Any) -> None:
        async with self.app.state.sessionmaker() as session, session.begin():
            row = await session.get(Connection, self.connection_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)


@pytest.fixture(params=["google", "microsoft"])
async def world(
    request: pytest.FixtureRequest, app: FastAPI, client: httpx.AsyncClient
) -> AsyncIterator[World]:
    async with app.state.sessionmaker() as session:
        firm = await create_firm(
            session, name="Sync Firm", admin_email="admin@sync.example", admin_name="Admin"
        )
    admin = {"Authorization": f"Bearer {firm.token}"}
    user = (
        await client.post(
            "/api/v1/users",
            json={"email": EMAIL, "name": "Case Manager", "role": "case_manager"},
            headers=admin,
        )
    ).json()
    token = (await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=admin)).json()
    manager = {"Authorization": f"Bearer {token['token']}"}
    case = (
        await client.post(
            "/api/v1/cases",
            json={"number": "C-1", "beneficiary": "Ana Gutierrez", "manager_ids": [user["id"]]},
            headers=admin,
        )
    ).json()

    remote = make_remote(request.param, EMAIL)
    provider, http = await remote.provider(EMAIL)

    async def provider_for(_connection: Connection) -> Provider:
        return provider

    connection_id = uuid.uuid4()
    async with app.state.sessionmaker() as session, session.begin():
        session.add(
            Connection(
                id=connection_id,
                firm_id=firm.firm_id,
                user_id=uuid.UUID(user["id"]),
                provider=ProviderName(request.param),
                status=ConnectionStatus.ACTIVE,
                account_email=EMAIL,
                calendar_id=remote.calendar_id,
                backfill=Backfill.UPCOMING,
                activated_at=datetime.now(UTC),
            )
        )
    engine = SyncEngine(app.state.sessionmaker, provider_for, base_url="http://testserver")
    yield World(
        app=app, api=client, remote=remote, engine=engine, firm_id=firm.firm_id,
        user_id=uuid.UUID(user["id"]), connection_id=connection_id,
        admin=admin, manager=manager, case_id=case["id"],
    )  # fmt: skip
    await http.aclose()
