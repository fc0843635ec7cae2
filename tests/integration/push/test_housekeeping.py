"""Scheduled housekeeping: the PKCE verifier and nonce of used or expired OAuth states are
blanked, the states deleted an hour later, expired web sessions deleted; by the embedded
scheduler's sweep (at most every ten minutes) and by the workers' periodic task."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from push_support import FakeClock, RecordingRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.services.firms import create_firm
from casecal.store.tables import OAuthState, ProviderName, WebSession, utcnow
from casecal.sync.housekeeping import Housekeeping
from casecal.sync.scheduler import Scheduler
from casecal.sync.worker import HOUSEKEEPING_TASK, SyncRuntime, WorkerTuning, build_app

MINUTE = timedelta(minutes=1)


class Rows:
    """OAuth states and web sessions of one user, made relative to a clock."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.firm_id = self.user_id = uuid.UUID(int=0)

    async def setup(self) -> None:
        async with self.sessionmaker() as session:
            firm = await create_firm(session, name="Tidy Firm", admin_email="a@tidy.example",
                                     admin_name="Admin")  # fmt: skip
        self.firm_id, self.user_id = firm.firm_id, firm.admin_user_id

    async def state(self, name: str, *, age: timedelta, used: timedelta | None = None) -> None:
        """A state created ``age`` ago (10 minutes to live), used ``used`` ago if given."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            session.add(OAuthState(
                state=name, firm_id=self.firm_id, user_id=self.user_id,
                provider=ProviderName.GOOGLE, browser_binding="b" * 64, code_verifier="verifier",
                nonce="nonce", redirect_uri="http://testserver/cb", created_at=now - age,
                expires_at=now - age + 10 * MINUTE,
                used_at=None if used is None else now - used,
            ))  # fmt: skip

    async def web_session(self, name: str, *, expires_in: timedelta) -> None:
        async with self.sessionmaker() as session, session.begin():
            session.add(WebSession(id=name, firm_id=self.firm_id, user_id=self.user_id,
                                   csrf_token="c", expires_at=utcnow() + expires_in))  # fmt: skip

    async def states(self) -> dict[str, tuple[str, str]]:
        async with self.sessionmaker() as session:
            rows = (await session.scalars(select(OAuthState))).all()
            return {row.state: (row.code_verifier, row.nonce) for row in rows}

    async def sessions(self) -> set[str]:
        async with self.sessionmaker() as session:
            return set((await session.scalars(select(WebSession.id))).all())


@pytest.fixture
async def rows(app: FastAPI) -> Rows:
    made = Rows(app.state.sessionmaker)
    await made.setup()
    return made


async def test_used_and_expired_states_and_expired_sessions_are_purged(rows: Rows) -> None:
    await rows.state("fresh", age=MINUTE)
    await rows.state("just-used", age=MINUTE, used=timedelta(seconds=20))
    await rows.state("used", age=6 * MINUTE, used=5 * MINUTE)
    await rows.state("expired", age=15 * MINUTE)
    await rows.state("used-long-ago", age=3 * 60 * MINUTE, used=3 * 60 * MINUTE - MINUTE)
    await rows.state("expired-long-ago", age=3 * 60 * MINUTE)
    await rows.web_session("live", expires_in=60 * MINUTE)
    await rows.web_session("ended", expires_in=-MINUTE)
    purged = await Housekeeping(rows.sessionmaker).run()
    blank = ("", "")
    assert await rows.states() == {
        "fresh": ("verifier", "nonce"),
        "just-used": ("verifier", "nonce"),  # the callback that used it may still read them
        "used": blank,
        "expired": blank,
    }
    assert await rows.sessions() == {"live"}
    assert (purged.states_scrubbed, purged.states_deleted, purged.sessions_deleted) == (2, 2, 1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_embedded_schedulers_sweep_purges_every_ten_minutes(rows: Rows) -> None:
    clock = FakeClock()
    scheduler = Scheduler(rows.sessionmaker, RecordingRunner(), sweep_seconds=3600, clock=clock)
    await rows.web_session("ended", expires_in=-MINUTE)
    await scheduler.sweep()
    assert await rows.sessions() == set()
    await rows.web_session("ended-later", expires_in=-MINUTE)
    clock.advance(5 * 60)
    await scheduler.sweep()
    assert await rows.sessions() == {"ended-later"}  # not due yet
    clock.advance(6 * 60)
    await scheduler.sweep()
    assert await rows.sessions() == set()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_workers_periodic_task_purges(rows: Rows) -> None:
    settings = Settings(database_url="postgresql+asyncpg://casecal@127.0.0.1/unused")
    queue = build_app(settings)  # only built: its tasks and schedule are what is checked
    (periodic,) = [
        p for (name, _), p in queue.periodic_registry.periodic_tasks.items()
        if name == HOUSEKEEPING_TASK
    ]  # fmt: skip
    assert periodic.cron == "*/10 * * * *"
    runtime = SyncRuntime(settings, rows.sessionmaker, engine=Any, app=queue,
                          tuning=WorkerTuning())  # type: ignore[arg-type]  # fmt: skip
    await rows.state("used", age=6 * MINUTE, used=5 * MINUTE)
    await rows.web_session("ended", expires_in=-MINUTE)
    context = SimpleNamespace(additional_context={"runtime": runtime})
    assert await queue.tasks[HOUSEKEEPING_TASK].func(context, timestamp=0) == 1
    assert await rows.states() == {"used": ("", "")}
    assert await rows.sessions() == set()
