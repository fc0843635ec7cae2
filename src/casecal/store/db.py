"""The async engine and session factory for one database URL (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from casecal.store import sqlite_driver
from casecal.store.private_files import secure_sqlite


def make_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Build the engine; SQLite gets foreign keys, WAL and a busy timeout on every connection,
    a private file (0600, in a 0700 directory) before the first, and the driver that sends a
    statement to aiosqlite's thread in one call (``sqlite_driver``)."""
    if database_url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        secure_sqlite(database_url)
    if database_url.startswith("sqlite+aiosqlite"):
        kwargs.setdefault("module", sqlite_driver.dbapi())
    engine = create_async_engine(database_url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def make_sessionmaker(
    engine: AsyncEngine, *, sync_session_class: type[Session] = Session
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep their objects loaded after a commit. Pass a ``Session`` subclass of
    one's own to attach commit listeners to these sessions only."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=sync_session_class)
