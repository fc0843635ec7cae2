"""Shared steps of the connect tests: a connected Google calendar, and reading the database
back (connections, audit actions, a raw dump)."""

from __future__ import annotations

import uuid

from connect_world import World
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.services.connect import activate, start_connect
from casecal.store.tables import AuditEvent, Backfill, Connection, ProviderName

DUMPED = ["connections", "oauth_states", "audit_log", "tenant_consents", "identity_aliases"]


async def connections(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> list[Connection]:
    async with sessionmaker() as session:
        query = select(Connection).where(Connection.user_id == user_id)
        return list((await session.scalars(query)).all())


async def actions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        return list((await session.scalars(query)).all())


async def dump(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """Every row of the tables that could hold a token, as text (a database dump)."""
    out: list[str] = []
    async with sessionmaker() as session:
        for table in DUMPED:
            rows = await session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            out.append(repr(rows.all()))
    return "\n".join(out)


def no_tokens_kept(found: list[Connection]) -> bool:
    """Nothing was connected: no row holds a token or an authorised account."""
    return all(
        c.refresh_token_enc is None and c.access_token_enc is None and not c.account_email
        for c in found
    )


async def connected_google(world: World) -> Connection:
    """Bob connected to his Google primary calendar (authorised, then activated)."""
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session,
            world.settings,
            world.actor("bob"),
            ProviderName.GOOGLE,
            browser_binding=world.binding("bob"),
        )
    response = await world.callback(
        "bob", "/oauth/google/callback", await world.provider_redirect(url)
    )
    assert response.status_code == 303
    [conn] = await connections(world.app.state.sessionmaker, world.users["bob"].id)
    async with world.app.state.sessionmaker() as session:
        return await activate(
            session,
            world.actor("bob"),
            conn.id,
            calendar_id="bob@example.org",
            calendar_name="Bob",
            step_reminders=False,
            backfill=Backfill.UPCOMING,
        )
