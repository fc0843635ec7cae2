"""A clean-up asked for a paused connection that holds no usable grant (no refresh token) is
a failed run, not a 500 (the API fuzz run found it); with nothing to remove it needs no grant."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld

from casecal.store.tables import Connection, ConnectionStatus, ProviderName


async def test_cleanup_of_a_connection_without_tokens_is_answered(
    client: httpx.AsyncClient,
    firm_a: FirmWorld,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    connection_id = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        session.add(
            Connection(
                id=connection_id,
                firm_id=uuid.UUID(firm_a.id),
                user_id=uuid.UUID(firm_a.cm1.id),
                provider=ProviderName.GOOGLE,
                status=ConnectionStatus.PAUSED_SUBSCRIPTION,
                calendar_id="primary",
            )
        )

    done = await client.post(
        f"{API}/connections/{connection_id}/cleanup", headers=firm_a.admin.auth
    )

    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "ok"
    assert done.json()["counts"].get("out", {}) == {}
