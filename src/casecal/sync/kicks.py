"""Who starts a pass when something asks for one, and the outbox trigger.

One process (``casecal serve`` with the embedded scheduler): the scheduler's ``kick``. Scale-out
(``casecal worker`` processes on PostgreSQL): a Procrastinate job, whose queueing lock
coalesces it with any pass already pending, picked up at once by a listening worker. Either
way the trigger is also in the database (dirty mark or pending outbox rows), so the periodic
sweep serves it even if the kick is lost (I7).

The outbox trigger: a transaction that saved entries wrote outbox rows for the users whose
calendars show them; once it commits, their active connections are kicked, so a change made in
CaseCal starts its pass within milliseconds instead of at the next sweep.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog
from procrastinate import App
from sqlalchemy import event, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from casecal.config import Settings
from casecal.store.tables import Connection, ConnectionStatus
from casecal.sync.outbox_rows import OUTBOX_USERS
from casecal.sync.queue import enqueue

log = structlog.get_logger("casecal.sync")


class Kicker(Protocol):
    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None: ...


class QueueKicker:
    """Kicks through the Procrastinate queue the workers serve (scale-out)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None:
        await enqueue(self.app, connection_id)


async def kick_users(
    sessionmaker: async_sessionmaker[AsyncSession],
    kicker: Kicker,
    pairs: set[tuple[uuid.UUID, uuid.UUID]],
) -> int:
    """Kick the active connections of these (firm, user) pairs; returns how many."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Connection.id).where(
                Connection.status == ConnectionStatus.ACTIVE,
                tuple_(Connection.firm_id, Connection.user_id).in_(sorted(pairs)),
            )
        )
        connection_ids = list(rows.all())
    for connection_id in connection_ids:
        await kicker.kick(connection_id, trigger="outbox")
    return len(connection_ids)


class OutboxTrigger:
    """Listens to one sessionmaker's commits and kicks the connections they concern."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], kicker: Kicker) -> None:
        self.sessionmaker = sessionmaker
        self.kicker = kicker
        self._tasks: set[asyncio.Task[int]] = set()
        session_class = sessionmaker.kw.get("sync_session_class")
        if session_class is None or session_class is Session:
            raise TypeError("give the sessionmaker its own sync_session_class to listen to")
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        pairs = session.info.pop(OUTBOX_USERS, None)
        if pairs:
            task = asyncio.get_running_loop().create_task(
                kick_users(self.sessionmaker, self.kicker, pairs)
            )
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(OUTBOX_USERS, None)

    def _done(self, task: asyncio.Task[int]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("outbox kick failed", error=repr(task.exception()))

    async def settle(self) -> None:
        """Wait for the kicks in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def session_class() -> type[Session]:
    """A Session subclass of one's own, so commit listeners stay with one app."""
    cls: Any = type("CaseCalSession", (Session,), {})
    return cls  # type: ignore[no-any-return]


@asynccontextmanager
async def kicker_for(settings: Settings, scheduler: Kicker) -> AsyncIterator[Kicker]:
    """The workers' queue (opened for the app's lifetime) when ``queue_triggers`` is set on
    PostgreSQL; else the scheduler (when it does not run in this process, its kicks are left
    to the sweep of one that does: the triggers are in the database either way)."""
    if not settings.queue_triggers or not settings.database_url.startswith("postgresql"):
        yield scheduler
        return
    from casecal.sync.worker import build_app  # the queue's tasks; only scale-out needs them

    queue = build_app(settings, pool=2)
    async with queue.open_async():
        yield QueueKicker(queue)
