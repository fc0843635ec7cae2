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

import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog
from procrastinate import App
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from casecal.config import Settings
from casecal.store.tables import Connection, ConnectionStatus
from casecal.sync.after_commit import AfterCommit
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


class OutboxTrigger(AfterCommit):
    """Listens to one sessionmaker's commits and kicks the connections they concern."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], kicker: Kicker) -> None:
        self.sessionmaker = sessionmaker
        self.kicker = kicker
        super().__init__(sessionmaker, OUTBOX_USERS, self._kick, "outbox kick failed")

    def _kick(self, pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> Coroutine[Any, Any, int] | None:
        return kick_users(self.sessionmaker, self.kicker, pairs) if pairs else None


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
