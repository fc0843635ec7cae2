"""The queue's building blocks: libpq connection info, backoff, an idempotent schema, and
triggers coalescing into one pending pass per connection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import text

from casecal.config import Settings
from casecal.store.db import make_engine
from casecal.sync.queue import (
    SYNC_TASK,
    apply_queue_schema,
    connection_lock,
    enqueue,
    psycopg_conninfo,
)
from casecal.sync.triggers import backoff_delay
from casecal.sync.worker import build_app


def test_conninfo_drops_the_driver_and_keeps_credentials_and_ssl() -> None:
    url = "postgresql+asyncpg://casecal:s%40cret@db.internal:6543/casecal?ssl=require"
    assert psycopg_conninfo(url) == (
        "postgresql://casecal:s%40cret@db.internal:6543/casecal?sslmode=require"
    )


def test_conninfo_refuses_sqlite() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        psycopg_conninfo("sqlite+aiosqlite:///data/casecal.db")


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    delays = [backoff_delay(n) for n in range(1, 10)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert backoff_delay(2, retry_after=600) == timedelta(minutes=10)  # Retry-After wins
    assert backoff_delay(8) == timedelta(hours=1)
    assert backoff_delay(1000) == timedelta(hours=1)
    assert all(a <= b for a, b in pairwise(delays))


@pytest.mark.postgres
async def test_schema_applies_once_even_when_workers_start_together(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, secret_keys=["k"])
    results = await asyncio.gather(*(apply_queue_schema(settings) for _ in range(4)))
    assert results.count(True) <= 1
    assert await apply_queue_schema(settings) is False
    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_triggers_coalesce_into_one_pending_pass_per_connection(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, secret_keys=["k"])
    await apply_queue_schema(settings)
    first, second = uuid.uuid4(), uuid.uuid4()
    app = build_app(settings, pool=2)
    async with app.open_async():
        queued = [await enqueue(app, first) for _ in range(5)]
        queued.append(await enqueue(app, second))
        jobs = await app.job_manager.list_jobs_async(task=SYNC_TASK, status="todo")
        mine = [j for j in jobs if j.lock in {connection_lock(first), connection_lock(second)}]
        for job in mine:
            assert job.id is not None
            await app.job_manager.cancel_job_by_id_async(job.id, delete_job=True)
    assert queued == [True, False, False, False, False, True]
    assert sorted(j.queueing_lock or "" for j in mine) == sorted(
        [connection_lock(first), connection_lock(second)]
    )
