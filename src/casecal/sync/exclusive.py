"""At most one pass per connection at a time, whoever starts it (scheduler, worker, API, CLI):
a PostgreSQL session advisory lock across processes, an asyncio lock within one process
(SQLite runs embedded in a single process)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_POLL_SECONDS = 0.2


def lock_key(connection_id: uuid.UUID) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock``."""
    return int.from_bytes(connection_id.bytes[:8], "big", signed=True)


class ConnectionLocks:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._local: dict[uuid.UUID, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, connection_id: uuid.UUID, *, wait: float = 0.0) -> AsyncIterator[bool]:
        """Yield True while this caller holds the connection's lock, False if another pass
        still held it after ``wait`` seconds."""
        local = self._local.setdefault(connection_id, asyncio.Lock())
        try:
            await asyncio.wait_for(local.acquire(), timeout=wait or 0.001)
        except TimeoutError:
            yield False
            return
        try:
            if self.engine.dialect.name != "postgresql":
                yield True
                return
            async with self.engine.connect() as conn:
                key = {"k": lock_key(connection_id)}
                deadline = time.monotonic() + wait
                while not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), key):
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    await asyncio.sleep(_POLL_SECONDS)
                try:
                    yield True
                finally:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                    await conn.commit()
        finally:
            local.release()
