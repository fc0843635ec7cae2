"""API test fixtures: two firms, each with an admin, two case managers and a staff member,
all with API tokens, made through the service and the API itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.services.firms import create_firm
from casecal.store.tables import OutboxRow

API = "/api/v1"


@dataclass
class Member:
    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class FirmWorld:
    id: str
    admin: Member
    cm1: Member
    cm2: Member
    staff: Member
    case_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)


async def _member(client: httpx.AsyncClient, admin: Member, role: str, email: str) -> Member:
    made = await client.post(
        f"{API}/users", json={"email": email, "name": email.split("@")[0], "role": role},
        headers=admin.auth,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    token = await client.post(f"{API}/users/{user_id}/tokens", json={}, headers=admin.auth)
    assert token.status_code == 201, token.text
    return Member(user_id, token.json()["token"])


async def make_firm(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], slug: str
) -> FirmWorld:
    async with sessionmaker() as session:
        created = await create_firm(
            session, name=f"Firm {slug}", admin_email=f"admin@{slug}.test", admin_name="Admin"
        )
    admin = Member(str(created.admin_user_id), created.token)
    world = FirmWorld(
        id=str(created.firm_id),
        admin=admin,
        cm1=await _member(client, admin, "case_manager", f"cm1@{slug}.test"),
        cm2=await _member(client, admin, "case_manager", f"cm2@{slug}.test"),
        staff=await _member(client, admin, "staff", f"staff@{slug}.test"),
    )
    case = await client.post(
        f"{API}/cases",
        json={"number": f"{slug}-1", "beneficiary": "Ana Diaz", "manager_ids": [world.cm1.id]},
        headers=admin.auth,
    )
    assert case.status_code == 201, case.text
    world.case_id = case.json()["id"]
    return world


@pytest.fixture
async def firm_a(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> FirmWorld:
    return await make_firm(client, sessionmaker, "alpha")


@pytest.fixture
async def firm_b(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> FirmWorld:
    return await make_firm(client, sessionmaker, "bravo")


async def outbox_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessionmaker() as session:
        rows = await session.execute(select(OutboxRow).order_by(OutboxRow.id))
        return list(rows.scalars())


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


COURT = {"hearing_type": "Master calendar", "start_at": "2026-03-10T09:00:00-04:00"}
INTERVIEW = {"interview_type": "Asylum", "start_at": "2026-03-11T10:00:00"}
REMINDER = {"step_name": "File I-130", "due_date": "2026-03-20"}
APPOINTMENT = {
    "title": "Client meeting",
    "start_at": "2026-03-12T14:00:00Z",
    "end_at": "2026-03-12T15:00:00Z",
    "time_zone": "America/Chicago",
}
