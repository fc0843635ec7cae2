"""The async engine and session factory for one database URL (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import orjson
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

_DUMPS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""What ``json.dumps`` refuses, orjson is told to refuse too (it hands it back)."""


def json_dumps(value: Any) -> str:
    """The JSON columns' text: orjson (a tenth of the CPU of ``json``), the same value as
    ``json.dumps`` gives; what orjson refuses (keys other than strings, numbers past 64
    bits, datetimes, dataclasses) goes to ``json.dumps``, which stores or refuses it as
    it always did."""
    try:
        return orjson.dumps(value, option=_DUMPS_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value, as ``json.loads`` reads it (orjson first, ``json`` for what
    orjson refuses: ``NaN``, lone surrogates)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Build the engine; SQLite gets foreign keys, WAL and a busy timeout on every connection,
    a private file (0600, in a 0700 directory) before the first, and the driver that sends a
    statement to aiosqlite's thread in one call (``sqlite_driver``). JSON columns go through
    orjson (``json_dumps``, ``json_loads``)."""
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", json_loads)
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
