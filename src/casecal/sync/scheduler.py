"""The embedded scheduler: an in-process asyncio runner that runs at most one pass per
connection at a time, collapses any number of triggers into one pending pass, bounds the
number of concurrent passes, and sweeps the database for pending work (I7). Each sweep also
judges push channel health (``channel_health``) and runs the housekeeping when it is due."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.store.tables import Connection, utcnow
from casecal.sync import triggers
from casecal.sync.channel_health import SilenceJudge
from casecal.sync.engine import PassReport
from casecal.sync.housekeeping import Housekeeping

log = structlog.get_logger(__name__)


class PassRunner(Protocol):
    """What runs one pass: ``SyncEngine`` in production, small fakes in tests."""

    async def run_pass(
        self, firm_id: uuid.UUID, connection_id: uuid.UUID, *, trigger: str = "manual"
    ) -> PassReport: ...


class PassObserver(Protocol):
    """Told about each finished pass (the metrics implement it)."""

    def pass_finished(self, outcome: str, seconds: float, trigger: str) -> None: ...

    def change_latency_observed(self, direction: str, seconds: float) -> None:
        """``direction`` is ``remote_to_host`` (notification to pass end) or
        ``host_to_remote`` (outbox row to its acknowledgement)."""

    def queue_depth(self, pending: int, running: int) -> None: ...


RetryAfterHint = Callable[[uuid.UUID], float | None]
"""Returns (and forgets) the Retry-After the provider last asked of a connection, if any."""

SweepHook = Callable[[], Awaitable[object]]


@dataclass
class SchedulerStats:
    passes: int = 0
    failures: int = 0
    kicks: int = 0
    coalesced: int = 0
    skipped_backoff: int = 0
    by_connection: dict[uuid.UUID, int] = field(default_factory=dict)


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        runner: PassRunner,
        *,
        concurrency: int = 8,
        sweep_seconds: float = 30.0,
        poll_minutes: int = 15,
        clock: Callable[[], datetime] = utcnow,
        retry_after: RetryAfterHint | None = None,
        observer: PassObserver | None = None,
        on_sweep: list[SweepHook] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.runner = runner
        self.concurrency = concurrency
        self.sweep_seconds = sweep_seconds
        self.poll_every = timedelta(minutes=poll_minutes)
        self.clock = clock
        self.retry_after = retry_after
        self.observer = observer
        self.on_sweep = list(on_sweep or [])
        self.health = SilenceJudge(sessionmaker, clock=clock)
        self.housekeeping = Housekeeping(sessionmaker, clock=clock)
        self.stats = SchedulerStats()
        self._pending: dict[uuid.UUID, str] = {}
        self._signalled: dict[uuid.UUID, float] = {}
        self._running: set[uuid.UUID] = set()
        self._ready: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._kicks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # -- control ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        """Cancel the workers; a pass cut short is safe to rerun (I3)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None:
        """Ask for a pass of one connection. Any number of kicks before the pass starts are
        one pass; a kick while a pass runs queues exactly one more."""
        self.stats.kicks += 1
        if trigger == "webhook":
            self._signalled.setdefault(connection_id, time.monotonic())
        if connection_id in self._pending:
            self.stats.coalesced += 1
            return
        self._pending[connection_id] = trigger
        self._idle.clear()
        if connection_id not in self._running:
            self._ready.put_nowait(connection_id)
        self._report_depth()

    async def sweep(self) -> int:
        """Kick every connection with pending work in the database; returns how many. The
        upkeep that follows the kicks (channel health, housekeeping) counts from the next one."""
        await self._run_hooks(self.on_sweep)
        async with self.sessionmaker() as session:
            due = await triggers.due_connections(session, self.clock())
        for item in due:
            await self.kick(item.connection_id, trigger="sweep")
        await self._run_hooks([self.health.judge, self.housekeeping.run_if_due])
        return len(due)

    async def _run_hooks(self, hooks: list[SweepHook]) -> None:
        for hook in hooks:
            try:
                await hook()
            except Exception as exc:  # a failing hook must not stop the sweep
                log.warning("sweep hook failed", error=repr(exc))

    async def drain(self) -> None:
        """Wait until nothing is pending or running (tests and shutdown; bound it with
        ``asyncio.timeout``)."""
        await self._idle.wait()

    @property
    def depth(self) -> int:
        return len(self._pending)

    # -- loops -----------------------------------------------------------------------------
    async def _sweeper(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # the database may be briefly unreachable: try again later
                log.warning("scheduler sweep failed", error=repr(exc))
            await asyncio.sleep(self.sweep_seconds)

    async def _worker(self) -> None:
        while True:
            connection_id = await self._ready.get()
            trigger = self._pending.pop(connection_id, None)
            if trigger is None or connection_id in self._running:
                continue
            self._running.add(connection_id)
            self._report_depth()
            try:
                await self._serve(connection_id, trigger)
            except Exception as exc:  # never lose the worker; the sweep retries the work
                log.warning(
                    "scheduled pass crashed", connection_id=str(connection_id), error=repr(exc)
                )
            finally:
                self._running.discard(connection_id)
                if connection_id in self._pending:
                    self._ready.put_nowait(connection_id)
                self._report_depth()
                if not self._pending and not self._running:
                    self._idle.set()

    async def _serve(self, connection_id: uuid.UUID, trigger: str) -> None:
        async with self.sessionmaker() as session:
            connection = await session.get(Connection, connection_id)
            if connection is None:
                return
            firm_id, backoff_until = connection.firm_id, connection.backoff_until
            served = connection.sync_requested_at
        now = self.clock()
        if backoff_until is not None and backoff_until > now:
            self.stats.skipped_backoff += 1
            self._retry_at(connection_id, backoff_until)
            return
        signalled = self._signalled.pop(connection_id, None)
        started = time.monotonic()
        outcome, report_outcome = triggers.Outcome.FAILED, "error"
        token = triggers.current_connection.set(connection_id)
        try:
            report = await self.runner.run_pass(firm_id, connection_id, trigger=trigger)
            report_outcome = report.outcome
            outcome = triggers.Outcome.of(report.outcome)
        except Exception as exc:  # e.g. the token source refused: back off like any failure
            log.warning("pass raised", connection_id=str(connection_id), error=repr(exc))
        finally:
            triggers.current_connection.reset(token)
        elapsed = time.monotonic() - started
        self.stats.passes += 1
        self.stats.by_connection[connection_id] = self.stats.by_connection.get(connection_id, 0) + 1
        hint = self.retry_after(connection_id) if self.retry_after else None
        async with self.sessionmaker() as session, session.begin():
            until = await triggers.record_outcome(
                session, connection_id, served=served, outcome=outcome,
                now=self.clock(), poll_every=self.poll_every, retry_after=hint,
            )  # fmt: skip
        if outcome is triggers.Outcome.FAILED:
            self.stats.failures += 1
            if until is not None:
                self._retry_at(connection_id, until)
        if self.observer is not None:
            self.observer.pass_finished(report_outcome, elapsed, trigger)
            if outcome is triggers.Outcome.OK:
                await self._observe_latency(connection_id, signalled, since=now)

    async def _observe_latency(
        self, connection_id: uuid.UUID, signalled: float | None, *, since: datetime
    ) -> None:
        assert self.observer is not None
        if signalled is not None:
            self.observer.change_latency_observed("remote_to_host", time.monotonic() - signalled)
        async with self.sessionmaker() as session:
            for seconds in await triggers.acked_latencies(session, connection_id, since):
                self.observer.change_latency_observed("host_to_remote", seconds)

    def _retry_at(self, connection_id: uuid.UUID, when: datetime) -> None:
        """Kick again when the backoff ends (the sweep would find it too, later)."""
        delay = max(0.0, (when - self.clock()).total_seconds())
        old = self._timers.pop(connection_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(connection_id, None)
            task = loop.create_task(self.kick(connection_id, trigger="retry"))
            self._kicks.add(task)
            task.add_done_callback(self._kicks.discard)

        self._timers[connection_id] = loop.call_later(delay, fire)

    def _report_depth(self) -> None:
        if self.observer is not None:
            self.observer.queue_depth(len(self._pending), len(self._running))
