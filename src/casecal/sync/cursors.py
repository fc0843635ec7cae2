"""The change-feed cursor row of a connection, created idempotently.

Two passes of one connection can overlap where no lock spans them (SQLite with a second
process, a CLI pass beside the server): both read "no cursor" and both insert. The insert
therefore ignores a row that already exists, on both SQLite and PostgreSQL, instead of the
second pass failing on the primary key."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import SyncCursor


async def ensure_cursor(
    session: AsyncSession, connection_id: uuid.UUID, firm_id: uuid.UUID
) -> SyncCursor:
    """The connection's cursor row, inserted (and committed) if it did not exist yet."""
    row = await session.get(SyncCursor, connection_id)
    if row is not None:
        return row
    values = {"connection_id": connection_id, "firm_id": firm_id}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(SyncCursor).values(values).on_conflict_do_nothing())
    await session.commit()
    row = await session.get(SyncCursor, connection_id, populate_existing=True)
    assert row is not None  # inserted here or by the other pass; nothing deletes it meanwhile
    return row
