"""The sweep on PostgreSQL (I7): which connections it re-enqueues, and how it recovers the
job of a worker whose heartbeat stopped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scale_fleet import Firm
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.domain.entries import EntryKind
from casecal.providers.base import Provider
from casecal.providers.errors import Transient
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    OutboxOp,
    OutboxRow,
    ProviderName,
    PushChannelRow,
    Role,
    User,
)
from casecal.store.tables import (
    Firm as FirmRow,
)
from casecal.sync.engine import SyncEngine
from casecal.sync.queue import SYNC_TASK, apply_queue_schema, connection_lock, enqueue
from casecal.sync.worker import SyncRuntime, WorkerTuning, build_app

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC)
"""Taken at import: under pytest-xdist a test may run many minutes later, so what must still
lie in the future when the sweep reads the clock is a day ahead, not minutes."""


async def no_provider(_connection: Connection) -> Provider:
    raise AssertionError("the sweep never talks to a provider")


@pytest.fixture
async def db(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(postgres_url)
    sessionmaker = make_sessionmaker(engine)
    settings = Settings(database_url=postgres_url, secret_keys=["k"])
    await apply_queue_schema(settings)
    firm = Firm(sessionmaker, settings)
    await firm.reset()
    yield sessionmaker
    await firm.reset()
    await engine.dispose()


async def add_connection(
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_id: uuid.UUID,
    *,
    outbox: bool = False,
    push: bool = False,
    **values: Any,
) -> uuid.UUID:
    user = User(id=uuid.uuid4(), firm_id=firm_id, email=f"{uuid.uuid4().hex}@x.example",
                name="cm", role=Role.CASE_MANAGER)  # fmt: skip
    fields: dict[str, Any] = {
        "status": ConnectionStatus.ACTIVE,
        "next_poll_at": NOW + timedelta(days=1),
    }
    fields |= values
    connection = Connection(id=uuid.uuid4(), firm_id=firm_id, user_id=user.id,
                            provider=ProviderName.GOOGLE, **fields)  # fmt: skip
    async with sessionmaker() as session, session.begin():
        session.add(user)
        await session.flush()
        session.add(connection)
        if outbox:
            row = OutboxRow(
                firm_id=firm_id,
                user_id=user.id,
                entry_kind=EntryKind.APPOINTMENT,
                entry_id=uuid.uuid4(),
                entry_version=1,
                operation=OutboxOp.CREATED,
            )
            session.add(row)
        if push:
            session.add(PushChannelRow(firm_id=firm_id, connection_id=connection.id,
                                       provider=ProviderName.GOOGLE, channel_id=uuid.uuid4().hex,
                                       secret_digest="0" * 64,
                                       expires_at=NOW + timedelta(days=1)))  # fmt: skip
    return connection.id


def runtime(sessionmaker: async_sessionmaker[AsyncSession], postgres_url: str) -> SyncRuntime:
    settings = Settings(database_url=postgres_url, secret_keys=["k"])
    app = build_app(settings, pool=2)
    engine = SyncEngine(sessionmaker, no_provider, base_url="http://testserver")
    return SyncRuntime(settings, sessionmaker, engine, app, WorkerTuning(stalled_seconds=5))


async def test_sweep_finds_every_connection_with_pending_work_and_only_those(
    db: async_sessionmaker[AsyncSession], postgres_url: str
) -> None:
    firm_id = uuid.uuid4()
    async with db() as session, session.begin():
        session.add(FirmRow(id=firm_id, name="Sweep", settings={}))
    due = {
        "outbox": await add_connection(db, firm_id, outbox=True),
        "requested": await add_connection(db, firm_id, sync_requested_at=NOW),
        "poll overdue": await add_connection(db, firm_id, next_poll_at=NOW - timedelta(minutes=1)),
        "never polled": await add_connection(db, firm_id, next_poll_at=None),
        "backoff over": await add_connection(db, firm_id, outbox=True,
                                             backoff_until=NOW - timedelta(seconds=1)),
    }  # fmt: skip
    idle = {
        "nothing to do": await add_connection(db, firm_id),
        "push healthy": await add_connection(db, firm_id, push=True,
                                             next_poll_at=NOW - timedelta(minutes=1)),
        "backing off": await add_connection(db, firm_id, outbox=True,
                                            backoff_until=NOW + timedelta(days=1)),
        "needs reauth": await add_connection(db, firm_id, sync_requested_at=NOW,
                                             status=ConnectionStatus.NEEDS_REAUTH),
    }  # fmt: skip
    rt = runtime(db, postgres_url)
    found = set(await rt.due_connections(NOW))
    assert {name for name, cid in due.items() if cid not in found} == set()
    assert {name for name, cid in idle.items() if cid in found} == set()
    async with rt.app.open_async():
        await enqueue(rt.app, due["outbox"])  # a pending pass exists already: coalesced
        report = await rt.sweep()
    assert (report.enqueued, report.coalesced) == (len(due) - 1, 1)


async def test_a_dead_workers_job_is_failed_and_its_connection_enqueued_again(
    db: async_sessionmaker[AsyncSession], postgres_url: str
) -> None:
    rt = runtime(db, postgres_url)
    connection_id = uuid.uuid4()
    manager = rt.app.job_manager
    async with rt.app.open_async():
        await enqueue(rt.app, connection_id)
        worker_id = await manager.register_worker()
        job = await manager.fetch_job(queues=None, worker_id=worker_id)
        assert job is not None
        assert job.id is not None
        assert await rt.recover_stalled() == []  # the worker is alive: its job is left alone
        async with db() as session, session.begin():
            await session.execute(
                text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
            )
        recovered = await rt.recover_stalled()
        statuses = {j.id: j.status for j in await manager.list_jobs_async(task=SYNC_TASK)}
        pending = await manager.list_jobs_async(status="todo", lock=connection_lock(connection_id))
    assert recovered == [job.id]
    assert statuses[job.id] == "failed"
    assert [j.task_kwargs["connection_id"] for j in pending] == [str(connection_id)]


async def unreachable(_connection: Connection) -> Provider:
    raise Transient("connection refused", provider="google")


async def test_a_failed_pass_backs_off_and_defers_the_next_pass_to_the_end_of_backoff(
    db: async_sessionmaker[AsyncSession], postgres_url: str
) -> None:
    firm_id = uuid.uuid4()
    async with db() as session, session.begin():
        session.add(FirmRow(id=firm_id, name="Backoff", settings={}))
    connection_id = await add_connection(db, firm_id, sync_requested_at=NOW)
    rt = runtime(db, postgres_url)
    rt.engine = SyncEngine(db, unreachable, base_url="http://testserver")
    async with rt.app.open_async():
        # The engine ends the pass as "failed" (an unreachable provider is no crash).
        assert await rt.sync(connection_id) == "failed"
        async with db() as session:
            row = await session.get(Connection, connection_id)
        assert row is not None
        assert row.consecutive_failures == 1
        assert row.backoff_until is not None
        assert (
            timedelta(seconds=25) < row.backoff_until - datetime.now(UTC) <= timedelta(seconds=30)
        )
        assert row.sync_requested_at is None
        assert await rt.sync(connection_id) == "backing_off"  # no pass while backing off
        pending = await rt.app.job_manager.list_jobs_async(
            status="todo", lock=connection_lock(connection_id)
        )
    assert [j.scheduled_at for j in pending] == [row.backoff_until]
    assert connection_id not in await rt.due_connections(datetime.now(UTC))
