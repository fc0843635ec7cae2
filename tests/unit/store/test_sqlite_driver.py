"""The SQLite driver ``make_engine`` uses: one call to aiosqlite's thread per statement, no
call for a commit or rollback with no transaction open, and otherwise the stock driver's
behaviour (rows, rowcounts, RETURNING, executemany, transactions, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.sqlite_driver import OneCallConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to aiosqlite's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", type(fn).__name__))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_the_engine_uses_the_one_call_driver(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneCallConnection)


async def test_a_read_only_session_is_one_call_per_statement(
    engine: AsyncEngine, calls: list[str]
) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:  # a pooled connection: no connect call below
        await session.execute(text("SELECT 1"))
    calls.clear()
    async with sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
        await session.commit()  # nothing open: nothing sent
    # and the rollback that returns the connection to the pool is not sent either
    assert calls == ["_run", "_run"]


async def test_writes_commit_and_rows_come_back(engine: AsyncEngine, calls: list[str]) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await session.execute(text("INSERT INTO t (id, name) VALUES (1, 'a')"))
        await session.execute(
            text("INSERT INTO t (id, name) VALUES (:id, :name)"),
            [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
        )
        updated = await session.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2  # type: ignore[attr-defined]
        returned = await session.execute(
            text("INSERT INTO t (id, name) VALUES (4, 'd') RETURNING id, name")
        )
        assert returned.all() == [(4, "d")]
        await session.commit()
    assert calls.count("commit") == 1
    async with sessionmaker() as session:
        rows = (await session.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
    assert rows == [(1, "a"), (2, "b!"), (3, "c!"), (4, "d")]


async def test_an_uncommitted_write_is_rolled_back(engine: AsyncEngine) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await session.execute(text("INSERT INTO t (id, name) VALUES (1, 'a')"))
        # closed without a commit: the pool's reset rolls the transaction back
    async with sessionmaker() as session:
        await session.execute(text("INSERT INTO t (id, name) VALUES (2, 'b')"))
        await session.rollback()
    async with sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_errors_are_the_stock_drivers(engine: AsyncEngine) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await session.execute(text("INSERT INTO t (id, name) VALUES (1, 'a')"))
        with pytest.raises(exc.IntegrityError):
            await session.execute(text("INSERT INTO t (id, name) VALUES (2, 'a')"))
        await session.rollback()
        with pytest.raises(exc.OperationalError):
            await session.execute(text("SELECT nothing FROM nowhere"))
    async with sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
