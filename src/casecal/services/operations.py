"""What the operator's endpoints read: whether the database answers (readiness) and how many
connections are in each state (the metrics gauge). Counts across every firm, served only to the
operator; no firm's rows leave."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from casecal.store.tables import Connection, ConnectionStatus


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database cannot be reached or does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def connections_by_status(session: AsyncSession) -> dict[ConnectionStatus, int]:
    """The number of connections in each state, every state named (0 when none)."""
    query = select(Connection.status, func.count()).group_by(Connection.status)
    counts = dict.fromkeys(ConnectionStatus, 0)
    for status, count in (await session.execute(query)).all():
        counts[status] = count
    return counts
