"""Work started once a transaction commits, from what it noted in ``session.info``.

A service notes what should happen outside the database (kick these users' connections, stop
or reopen these channels) under a key in ``session.info``; the listener pops it after the
commit and starts the work as a task, and drops it after a rollback, so nothing happens for
a change that was never written. The work is best effort: whatever it misses is repaired by
the periodic sweeps, since the trigger itself is in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

log = structlog.get_logger("casecal.sync")

Start = Callable[[Any], Coroutine[Any, Any, object] | None]
"""Given what the transaction noted, the work to run (None: nothing to do)."""


class AfterCommit:
    """Listens to one sessionmaker's commits and starts the work noted under ``key``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        key: str,
        start: Start,
        failure: str,
    ) -> None:
        self.key = key
        self.start = start
        self.failure = failure
        self._tasks: set[asyncio.Task[object]] = set()
        session_class = sessionmaker.kw.get("sync_session_class")
        if session_class is None or session_class is Session:
            raise TypeError("give the sessionmaker its own sync_session_class to listen to")
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        noted = session.info.pop(self.key, None)
        if noted is None:
            return
        work = self.start(noted)
        if work is None:
            return
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self.key, None)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning(self.failure, error=repr(task.exception()))

    async def settle(self) -> None:
        """Wait for the work in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
