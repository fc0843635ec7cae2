"""SQLAlchemy's aiosqlite driver, with one hand-off to the SQLite thread per statement.

aiosqlite runs every call on the connection's own thread; each call is a queue put, a
thread wake-up and a wake-up of the event loop. SQLAlchemy's adapter makes four such calls
for one statement (open a cursor, execute, fetch the rows, close the cursor), and one more
for each commit and for the rollback that returns a connection to the pool, even when no
transaction is open. Here a statement is one call (the cursor opened, executed, read and
closed on the SQLite thread), and a commit or rollback with no transaction open is not sent
(the ``sqlite3`` module would do nothing with it either). Everything else, the SQL, its
transactions and the errors raised, is the stock driver's."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]
"""What one statement leaves: its description, its rows, its rowcount and lastrowid."""


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """On the SQLite thread: the whole statement, its rows read, its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneCallCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one call to the SQLite thread; nothing of it
    stays open there afterwards (there is nothing to close)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            outcome: Outcome = await_(
                connection._execute(  # type: ignore[no-untyped-call]
                    _run, connection._conn, operation, parameters, many
                )
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._call(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._call(operation, seq_of_parameters, True)


class OneCallConnection(AsyncAdapt_aiosqlite_connection):
    """Statements through ``OneCallCursor``; a commit or rollback only when a transaction
    is open (``sqlite3`` itself ignores them otherwise, after a round trip to its thread)."""

    __slots__ = ()
    _cursor_cls = OneCallCursor  # type: ignore[assignment]

    def _open(self) -> bool:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        return connection._connection is not None and connection.in_transaction

    def rollback(self) -> None:
        if self._open():
            super().rollback()

    def commit(self) -> None:
        if self._open():
            super().commit()


class OneCallDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DB-API module SQLAlchemy adapts, connecting ``OneCallConnection``s."""

    def connect(self, *arg: Any, **kw: Any) -> OneCallConnection:
        adapted = super().connect(*arg, **kw)
        return OneCallConnection(self, adapted._connection)


def dbapi() -> OneCallDBAPI:
    """The module to hand ``create_async_engine(..., module=...)`` for ``sqlite+aiosqlite``."""
    return OneCallDBAPI(aiosqlite, sqlite3)
