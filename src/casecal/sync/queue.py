"""The PostgreSQL job queue of scale-out: connection info for Procrastinate, its schema applied
once (idempotent, safe when several workers start together) and the one-running / one-pending
rule per connection expressed as Procrastinate locks."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from casecal.config import Settings

SYNC_TASK = "casecal.sync_connection"
SWEEP_TASK = "casecal.sweep"
QUEUE = "sync"
_SCHEMA_LOCK = 7_314_159_265
"""Advisory lock key held while the schema is checked and applied."""


def psycopg_conninfo(database_url: str) -> str:
    """A libpq URL from the SQLAlchemy one (``postgresql+asyncpg://`` -> ``postgresql://``);
    asyncpg's ``ssl=`` query option becomes libpq's ``sslmode=``."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the job queue needs PostgreSQL (CASECAL_DATABASE_URL)")
    query = dict(url.query)
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    plain = url.set(drivername="postgresql", query=query)
    return plain.render_as_string(hide_password=False)


def make_connector(settings: Settings, *, max_size: int = 10) -> PsycopgConnector:
    return PsycopgConnector(
        conninfo=psycopg_conninfo(settings.database_url), min_size=1, max_size=max_size
    )


def connection_lock(connection_id: uuid.UUID) -> str:
    """The lock (one running pass) and queueing lock (one pending pass) of a connection."""
    return f"connection:{connection_id}"


async def apply_queue_schema(settings: Settings) -> bool:
    """Create Procrastinate's tables and functions unless they exist; True when it applied them.
    An advisory lock makes concurrent callers wait for the first one instead of racing it."""
    from procrastinate.schema import SchemaManager

    conninfo = psycopg_conninfo(settings.database_url)
    async with await psycopg.AsyncConnection.connect(conninfo) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
        row = await cur.fetchone()
        if row is not None and row[0]:
            return False
        await conn.execute(SchemaManager.get_schema())
    return True


async def enqueue(
    app: App, connection_id: uuid.UUID, *, schedule_at: datetime | None = None
) -> bool:
    """Ask for a pass of the connection. False when a pending pass already exists: the trigger
    is coalesced into it (a running pass does not count, so a change made while a pass runs is
    still picked up by the next one)."""
    lock = connection_lock(connection_id)
    deferrer = app.configure_task(
        SYNC_TASK, lock=lock, queueing_lock=lock, queue=QUEUE, schedule_at=schedule_at
    )
    try:
        await deferrer.defer_async(connection_id=str(connection_id))
    except AlreadyEnqueued:
        return False
    return True
