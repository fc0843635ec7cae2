"""Both sweeps judge channel health: the embedded scheduler's and the workers' find a channel
that stayed silent while a pass brought remote news, and its connection polls."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from push_support import RecordingRunner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.providers.base import Provider
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    ProviderName,
    PushChannelRow,
    SyncRun,
    utcnow,
)
from casecal.sync.engine import SyncEngine
from casecal.sync.queue import apply_queue_schema
from casecal.sync.scheduler import Scheduler
from casecal.sync.worker import SyncRuntime, WorkerTuning, build_app

MINUTE = timedelta(minutes=1)


async def no_provider(_connection: Connection) -> Provider:
    raise AssertionError("the sweep never talks to a provider")


async def silent_channel(sessionmaker: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    """A connection whose poll is overdue, with a channel open for ten minutes that never
    delivered, and two passes since: the second brought a change from the remote."""
    now = utcnow()
    async with sessionmaker() as session:
        firm = await create_firm(session, name="Quiet Firm", admin_email="a@quiet.example",
                                 admin_name="Admin")  # fmt: skip
    connection_id = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        session.add(Connection(id=connection_id, firm_id=firm.firm_id,
                               user_id=firm.admin_user_id, provider=ProviderName.GOOGLE,
                               status=ConnectionStatus.ACTIVE, calendar_id="primary",
                               next_poll_at=now - MINUTE))  # fmt: skip
        await session.flush()
        session.add(PushChannelRow(firm_id=firm.firm_id, connection_id=connection_id,
                                   provider=ProviderName.GOOGLE, channel_id="quiet",
                                   secret_digest="0" * 64, expires_at=now + timedelta(days=1),
                                   created_at=now - 10 * MINUTE))  # fmt: skip
        for ago, counts in ((8, {}), (5, {"in": {"court_date.update": 1}})):
            session.add(SyncRun(firm_id=firm.firm_id, connection_id=connection_id,
                                trigger="sync_now", started_at=now - ago * MINUTE,
                                finished_at=now - ago * MINUTE, outcome="ok",
                                counts=counts))  # fmt: skip
    return connection_id


async def _doubted(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    async with sessionmaker() as session:
        row = await session.get(PushChannelRow, await _channel_id(session))
        assert row is not None
        return row.last_refused_at is not None


async def _channel_id(session: AsyncSession) -> uuid.UUID:
    found = await session.scalar(
        select(PushChannelRow.id).where(PushChannelRow.channel_id == "quiet")
    )
    assert found is not None
    return found


async def test_the_embedded_schedulers_sweep_judges_channels(app: FastAPI) -> None:
    sessionmaker = app.state.sessionmaker
    await silent_channel(sessionmaker)
    runner = RecordingRunner(delay=0)
    scheduler = Scheduler(sessionmaker, runner, sweep_seconds=3600)
    assert await scheduler.sweep() == 0  # a channel in good standing: no poll
    assert await _doubted(sessionmaker)
    assert await scheduler.sweep() == 1  # judged silent by the last sweep: the poll is due
    assert scheduler.depth == 1  # the connection's pass is pending


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_workers_sweep_judges_channels(app: FastAPI, tmp_path: Path) -> None:
    sessionmaker = app.state.sessionmaker
    connection_id = await silent_channel(sessionmaker)
    settings = Settings(data_dir=tmp_path, database_url=app.state.settings.database_url)
    await apply_queue_schema(settings)
    queue = build_app(settings, pool=2)
    engine = SyncEngine(sessionmaker, no_provider, base_url="http://testserver")
    runtime = SyncRuntime(settings, sessionmaker, engine, queue, WorkerTuning())
    assert connection_id not in await runtime.due_connections(utcnow())
    async with queue.open_async():
        await runtime.sweep()
    assert await _doubted(sessionmaker)
    assert connection_id in await runtime.due_connections(utcnow())
    async with sessionmaker() as session, session.begin():  # the job it enqueued
        await session.execute(text("TRUNCATE procrastinate_jobs CASCADE"))
