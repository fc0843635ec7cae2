"""Adding a user, changing their role or deactivating them, and issuing or revoking an API
token are in the firm's audit log, naming who did it (they were not)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld

from casecal.store.tables import AuditEvent


async def _events(
    sessionmaker: async_sessionmaker[AsyncSession], firm: FirmWorld, target: str
) -> list[AuditEvent]:
    async with sessionmaker() as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.firm_id == uuid.UUID(firm.id), AuditEvent.target == target)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
        return list((await session.scalars(query)).all())


async def test_user_and_token_changes_are_audited(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    admin = firm_a.admin
    made = await client.post(
        f"{API}/users", json={"email": "new@alpha.test", "name": "New", "role": "staff"},
        headers=admin.auth,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    changed = await client.patch(
        f"{API}/users/{user_id}", json={"role": "case_manager", "name": "New"}, headers=admin.auth
    )
    assert changed.status_code == 200, changed.text
    off = await client.patch(
        f"{API}/users/{user_id}", json={"is_active": False}, headers=admin.auth
    )
    assert off.status_code == 200, off.text
    same = await client.patch(f"{API}/users/{user_id}", json={"name": "New"}, headers=admin.auth)
    assert same.status_code == 200, same.text  # nothing changed: nothing recorded

    token = await client.post(
        f"{API}/users/{firm_a.cm1.id}/tokens", json={"name": "laptop"}, headers=admin.auth
    )
    assert token.status_code == 201, token.text
    gone = await client.delete(
        f"{API}/users/{firm_a.cm1.id}/tokens/{token.json()['id']}", headers=admin.auth
    )
    assert gone.status_code == 204, gone.text

    user_events = await _events(sessionmaker, firm_a, user_id)
    assert [(e.action, e.details) for e in user_events] == [
        ("user.created", {"role": "staff"}),
        ("user.updated", {"fields": ["role"], "role": "case_manager"}),
        ("user.updated", {"fields": ["is_active"], "active": False}),
    ]
    assert {e.actor_user_id for e in user_events} == {uuid.UUID(admin.id)}
    token_events = [
        (e.action, e.details)
        for e in await _events(sessionmaker, firm_a, firm_a.cm1.id)
        if e.action.startswith("token.")
    ]
    assert ("token.created", {"name": "laptop"}) in token_events
    assert token_events[-1] == ("token.revoked", {"name": "laptop"})
