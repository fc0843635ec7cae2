"""A push-enabled world: emulator notifications delivered in-process to the app's webhook
receivers, a channel manager on the emulator's clock, a scheduler, metrics, and small real
fakes (a kick recorder, a pass runner that records overlaps)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sync_world import World

from casecal.auth.encryption import secret_material
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.store.tables import Connection, PushChannelRow, utcnow
from casecal.sync.channels import ChannelManager
from casecal.sync.engine import PassReport
from casecal.sync.outcomes import PassOutcome
from casecal.web import metrics as metrics_module
from casecal.web.metrics import Metrics
from casecal.web.routes import webhooks


class KickLog:
    """Stands in for the scheduler where a test only counts what the receivers asked for."""

    def __init__(self) -> None:
        self.kicks: list[tuple[uuid.UUID, str]] = []

    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None:
        self.kicks.append((connection_id, trigger))


@dataclass
class RecordingRunner:
    """A pass runner that takes ``delay`` seconds and records how many passes of each
    connection ran at once. ``outcomes`` are returned in order, then ``ok``."""

    delay: float = 0.01
    outcomes: list[str] = field(default_factory=list)
    during: Callable[[uuid.UUID], None] | None = None
    started: list[tuple[uuid.UUID, float]] = field(default_factory=list)
    running: dict[uuid.UUID, int] = field(default_factory=dict)
    max_per_connection: int = 0
    max_total: int = 0

    async def run_pass(
        self, firm_id: uuid.UUID, connection_id: uuid.UUID, *, trigger: str = "manual"
    ) -> PassReport:
        loop = asyncio.get_running_loop()
        self.started.append((connection_id, loop.time()))
        self.running[connection_id] = self.running.get(connection_id, 0) + 1
        self.max_per_connection = max(self.max_per_connection, self.running[connection_id])
        self.max_total = max(self.max_total, sum(self.running.values()))
        try:
            if self.during is not None:
                self.during(connection_id)
            await asyncio.sleep(self.delay)
        finally:
            self.running[connection_id] -= 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        return PassReport(run_id=uuid.uuid4(), outcome=PassOutcome(outcome))


class FakeClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Pushed:
    world: World
    channels: ChannelManager
    metrics: Metrics
    kicks: KickLog

    @property
    def emu(self) -> GoogleEmulator | MicrosoftEmulator:
        emu: GoogleEmulator | MicrosoftEmulator = self.world.remote.emu  # type: ignore[attr-defined]
        return emu

    def advance(self, seconds: float) -> None:
        emu = self.emu
        if isinstance(emu, GoogleEmulator):
            emu.advance(seconds)
        else:
            emu.state.clock.advance(seconds)

    def now(self) -> datetime:
        emu = self.emu
        return emu.clock.now_dt() if isinstance(emu, GoogleEmulator) else emu.state.clock.now()

    async def rows(self) -> list[PushChannelRow]:
        async with self.world.app.state.sessionmaker() as session:
            query = select(PushChannelRow).order_by(PushChannelRow.created_at)
            return list((await session.scalars(query)).all())

    async def live(self) -> list[PushChannelRow]:
        return [row for row in await self.rows() if row.stopped_at is None]

    async def requested(self) -> datetime | None:
        async with self.world.app.state.sessionmaker() as session:
            row = await session.get(Connection, self.world.connection_id)
            assert row is not None
            return row.sync_requested_at

    async def flush(self) -> None:
        await self.emu.flush_notifications()

    def secret_of(self, row: PushChannelRow) -> str:
        """The secret as the provider holds it (CaseCal keeps only its digest)."""
        emu = self.emu
        if isinstance(emu, GoogleEmulator):
            token = emu.notifier.channels[row.channel_id].token
        else:
            token = emu.state.subscriptions[row.channel_id].client_state
        assert token is not None
        return token


@pytest.fixture
async def pushed(world: World) -> AsyncIterator[Pushed]:
    app = world.app
    emu = world.remote.emu  # type: ignore[attr-defined]
    emu.notifier.transport = httpx.ASGITransport(app=app)
    if isinstance(emu, GoogleEmulator):
        emu.notifier.allow_http = True
    else:
        emu.allow_http_notification_urls = True
    if not any(getattr(r, "path", "") == "/metrics" for r in app.routes):
        app.include_router(webhooks.router)
        app.include_router(metrics_module.router)
    kicks = KickLog()
    metrics = Metrics()
    app.state.metrics, app.state.scheduler, app.state.kicker = metrics, kicks, kicks
    provider_for = world.engine.provider_for
    holder: dict[str, Pushed] = {}
    manager = ChannelManager(
        app.state.sessionmaker, provider_for, webhook_base_url="http://testserver",
        secret_keys=secret_material(app.state.settings), clock=lambda: holder["p"].now(),
    )  # fmt: skip
    app.state.channels = manager
    holder["p"] = Pushed(world, manager, metrics, kicks)
    yield holder["p"]
    await emu.flush_notifications()
