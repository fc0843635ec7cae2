"""``casecal worker``: sync passes run by Procrastinate on PostgreSQL, one running and one pending
pass per connection (its ``lock`` and ``queueing_lock``), with a periodic sweep that re-enqueues
every connection with pending work and recovers the jobs of workers that died (I7), judging push
channel health on the way, and a periodic housekeeping task (``housekeeping``)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog
from procrastinate import App, JobContext
from procrastinate.jobs import Status
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.errors import NotFound
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.tables import Connection, ConnectionStatus, utcnow
from casecal.sync import triggers
from casecal.sync.channel_health import SilenceJudge
from casecal.sync.connector import ConnectionProviders
from casecal.sync.engine import SyncEngine
from casecal.sync.housekeeping import Housekeeping, Purged
from casecal.sync.outcomes import PassOutcome
from casecal.sync.queue import (
    QUEUE,
    SWEEP_TASK,
    SYNC_TASK,
    apply_queue_schema,
    enqueue,
    make_connector,
)
from casecal.sync.triggers import backoff_delay

log = structlog.get_logger("casecal.worker")

HOUSEKEEPING_TASK = "casecal.housekeeping"


@dataclass(frozen=True)
class WorkerTuning:
    """Timings of a worker; production uses the defaults, tests shorten them."""

    sweep_cron: str = "* * * * *"
    """When the sweep runs (cron, optional 6th column for seconds): every minute."""
    heartbeat_seconds: float = 10.0
    stalled_seconds: float = 30.0
    """A worker silent this long is dead; the sweep recovers its running jobs."""
    fetch_polling_seconds: float = 5.0
    """Fallback poll for new jobs; LISTEN/NOTIFY wakes workers at once."""
    housekeeping_cron: str = "*/10 * * * *"
    """When the housekeeping purge runs: every ten minutes."""


@dataclass
class SweepReport:
    enqueued: int = 0
    coalesced: int = 0
    recovered: list[int] = field(default_factory=list)


class SyncRuntime:
    """What the tasks of one worker process share: the database, the engine and the queue."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        engine: SyncEngine,
        app: App,
        tuning: WorkerTuning,
        name: str = "worker",
    ) -> None:
        self.settings = settings
        self.name = name
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.app = app
        self.tuning = tuning
        self.health = SilenceJudge(sessionmaker)
        self.housekeeping = Housekeeping(sessionmaker)

    @property
    def trigger(self) -> str:
        """What the run log shows as the trigger of a pass: the worker that ran it."""
        return f"worker:{self.name}"[:32]

    async def sync(self, connection_id: uuid.UUID) -> str:
        """Run one pass (the job holds the connection's lock); back off on failure."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            row = await session.get(Connection, connection_id)
            if row is None or row.status is not ConnectionStatus.ACTIVE:
                return "skipped"
            backoff_until = row.backoff_until
            if backoff_until is None or backoff_until <= now:
                row.sync_requested_at = None
            firm_id, failures = row.firm_id, row.consecutive_failures
        if backoff_until is not None and backoff_until > now:
            await enqueue(self.app, connection_id, schedule_at=backoff_until)
            return "backing_off"
        try:
            report = await self.engine.run_pass(firm_id, connection_id, trigger=self.trigger)
        except NotFound:
            return "skipped"
        except Exception:
            await self._failed(connection_id, failures + 1)
            raise
        if report.outcome == PassOutcome.FAILED:
            await self._failed(connection_id, failures + 1, report.retry_after)
        elif report.outcome == PassOutcome.OK:
            await self._succeeded(connection_id)
        return report.outcome

    async def _succeeded(self, connection_id: uuid.UUID) -> None:
        next_poll = utcnow() + timedelta(minutes=self.settings.poll_minutes)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(consecutive_failures=0, backoff_until=None, next_poll_at=next_poll)
            )

    async def _failed(
        self, connection_id: uuid.UUID, failures: int, retry_after: float | None = None
    ) -> None:
        until = utcnow() + backoff_delay(failures, retry_after)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(consecutive_failures=failures, backoff_until=until)
            )
        await enqueue(self.app, connection_id, schedule_at=until)
        log.warning("sync pass failed; backing off", connection_id=str(connection_id),
                    failures=failures, until=until.isoformat())  # fmt: skip

    async def due_connections(self, now: datetime) -> list[uuid.UUID]:
        """The connections the sweep enqueues (the same rule as the embedded scheduler)."""
        async with self.sessionmaker() as session:
            return [due.connection_id for due in await triggers.due_connections(session, now)]

    async def recover_stalled(self) -> list[int]:
        """Jobs left running by a worker whose heartbeat stopped (killed, machine lost) hold
        their connection's lock forever: mark them failed and enqueue their connection again."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.tuning.stalled_seconds
        )
        recovered: list[int] = []
        for job in stalled:
            assert job.id is not None
            try:
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            except Exception:  # finished meanwhile by a worker that was only slow
                log.info("stalled job already finished", job_id=job.id)
                continue
            recovered.append(job.id)
            if job.task_name == SYNC_TASK:
                await enqueue(self.app, uuid.UUID(str(job.task_kwargs["connection_id"])))
        if recovered:
            log.warning("recovered jobs of dead workers", job_ids=recovered)
        return recovered

    async def sweep(self) -> SweepReport:
        report = SweepReport(recovered=await self.recover_stalled())
        try:
            await self.health.judge()
        except Exception as exc:  # health is advisory: the sweep's job comes first
            log.warning("channel health judgement failed", error=repr(exc))
        for connection_id in await self.due_connections(utcnow()):
            if await enqueue(self.app, connection_id):
                report.enqueued += 1
            else:
                report.coalesced += 1
        log.info("sweep", enqueued=report.enqueued, coalesced=report.coalesced,
                 recovered=len(report.recovered))  # fmt: skip
        return report


def _runtime(context: JobContext) -> SyncRuntime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, SyncRuntime)
    return runtime


def build_app(settings: Settings, *, tuning: WorkerTuning | None = None, pool: int = 10) -> App:
    """The Procrastinate app with CaseCal's tasks; enqueue through it once opened."""
    tuning = tuning or WorkerTuning()
    app = App(connector=make_connector(settings, max_size=pool))

    @app.task(name=SYNC_TASK, queue=QUEUE, pass_context=True)
    async def sync_connection(context: JobContext, connection_id: str) -> str:
        return await _runtime(context).sync(uuid.UUID(connection_id))

    @app.periodic(cron=tuning.sweep_cron)
    @app.task(name=SWEEP_TASK, queue=QUEUE, pass_context=True)
    async def sweep(context: JobContext, timestamp: int) -> int:
        report = await _runtime(context).sweep()
        return report.enqueued

    @app.periodic(cron=tuning.housekeeping_cron)
    @app.task(name=HOUSEKEEPING_TASK, queue=QUEUE, pass_context=True)
    async def housekeeping(context: JobContext, timestamp: int) -> int:
        purged: Purged = await _runtime(context).housekeeping.run()
        return purged.states_deleted + purged.sessions_deleted

    return app


async def run_worker_async(
    settings: Settings,
    *,
    concurrency: int,
    tuning: WorkerTuning | None = None,
    name: str | None = None,
) -> None:
    """Serve sync jobs until SIGINT/SIGTERM (a graceful stop finishes the passes in flight)."""
    tuning = tuning or WorkerTuning()
    await apply_queue_schema(settings)
    app = build_app(settings, tuning=tuning, pool=concurrency + 4)
    db = make_engine(settings.database_url, pool_size=concurrency + 2)
    sessionmaker = make_sessionmaker(db)
    try:
        async with httpx.AsyncClient(timeout=30) as http, app.open_async():
            providers = ConnectionProviders(settings, sessionmaker, http)
            engine = SyncEngine(sessionmaker, providers, base_url=settings.base_url)
            name = name or f"{socket.gethostname()}-{os.getpid()}"
            runtime = SyncRuntime(settings, sessionmaker, engine, app, tuning, name)
            log.info("worker started", concurrency=concurrency, name=name)
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=name,
                additional_context={"runtime": runtime},
                update_heartbeat_interval=tuning.heartbeat_seconds,
                stalled_worker_timeout=tuning.stalled_seconds,
                fetch_job_polling_interval=tuning.fetch_polling_seconds,
                delete_jobs="successful",
            )
    finally:
        await db.dispose()


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 4,
    tuning: WorkerTuning | None = None,
    name: str | None = None,
) -> None:
    """Blocking entry point of ``casecal worker``."""
    asyncio.run(run_worker_async(settings, concurrency=concurrency, tuning=tuning, name=name))


if __name__ == "__main__":  # pragma: no cover - ``python -m casecal.sync.worker``
    from casecal.logging import configure_logging

    _settings = Settings()
    configure_logging(json=_settings.log_json, level=_settings.log_level)
    run_worker(_settings)
