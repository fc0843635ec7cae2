"""Latency remote -> host through the app's push receiver: a watch channel (Google) or
subscription (Graph) points at ``/webhooks/<provider>`` served by this process over loopback;
a remote edit makes the emulator notify, the receiver marks the connection dirty and kicks a
one-connection runner that starts a pass at once (no scheduler queueing)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import minimums
from bench.emulator import free_port
from bench.report import Sample, percentile
from bench.scenarios.common import Setup, setup
from bench.workload import host_specs
from casecal.providers.base import Provider
from casecal.store.tables import Connection, Link
from casecal.sync.channels import ChannelManager
from casecal.sync.kicks import Kicker

BASE_ENTRIES = 20
WAIT_S = 10.0


class Runner:
    """The kick target: coalesces kicks into passes, run one at a time."""

    def __init__(self, s: Setup) -> None:
        self.s = s
        self.dirty = asyncio.Event()
        self.passes = 0
        self.done = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None

    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None:
        self.dirty.set()

    async def loop(self) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            await self.s.host.sync()
            async with self.done:
                self.passes += 1
                self.done.notify_all()

    async def after(self, passes: int) -> None:
        """Wait until a pass started after the ``passes``-th one has finished."""
        async with self.done:
            await asyncio.wait_for(self.done.wait_for(lambda: self.passes > passes), WAIT_S)


@contextlib.asynccontextmanager
async def receiver(
    sessionmaker: async_sessionmaker[AsyncSession], kicker: Kicker
) -> AsyncIterator[tuple[str, str]]:
    """The app's webhook router on a loopback port, kicking ``kicker``; yields its base URL
    and secret key."""
    from casecal.web.routes import webhooks

    app = FastAPI()
    app.include_router(webhooks.router)
    key = secrets.token_urlsafe(32)
    app.state.sessionmaker = sessionmaker
    app.state.settings = SimpleNamespace(secret_keys=[key])
    app.state.scheduler = app.state.kicker = kicker
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    else:
        raise RuntimeError("the webhook receiver did not start")
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        await serving


async def run(base: str, provider: str, size: int) -> list[Sample]:
    """On its own: a small calendar of ``BASE_ENTRIES`` entries."""
    async with setup(base, provider) as s:
        await s.host.add(host_specs(BASE_ENTRIES, now=datetime.now(UTC)))
        await s.host.sync()
        return [await remote_to_host(s, size)]


async def remote_to_host(s: Setup, size: int) -> Sample:
    """``size`` single remote edits of linked events (round robin), each announced by push."""
    async with s.host.sessionmaker() as session:
        links = await session.scalars(select(Link).where(Link.tombstoned_at.is_(None)))
        remote_ids = sorted(link.remote_id for link in links)
    provider = s.account.provider_name
    setting = "allow_http_push" if provider == "google" else "allow_http_notification_urls"
    await s.account.admin.call("POST", "/settings", {setting: True})
    runner = Runner(s)
    latencies: list[float] = []
    missed = 0
    async with receiver(s.host.sessionmaker, runner) as (url, key):

        async def provider_for(_connection: Connection) -> Provider:
            return s.provider

        channels = ChannelManager(
            s.host.sessionmaker, provider_for, webhook_base_url=url, secret_keys=[key]
        )
        if await channels.open(s.host.connection_id) is None:
            raise RuntimeError("no push channel could be opened")
        runner.task = asyncio.create_task(runner.loop())
        await asyncio.sleep(0.2)  # let the channel's first ("sync") message settle

        async def changes() -> None:
            nonlocal missed
            for i in range(size):
                passes = runner.passes
                started = time.perf_counter()
                await s.account.retitle(remote_ids[i % len(remote_ids)], f"Remote edit {i}")
                try:
                    await runner.after(passes)
                except TimeoutError:
                    missed += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

        try:
            sample, _ = await s.measure(
                changes, scenario="latency r->h", size=size,
                minimum=size * minimums.remote_change(provider), events=size,
            )  # fmt: skip
        finally:
            runner.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner.task
    if latencies:
        sample.extra["p50_ms"] = percentile(latencies, 50)
        sample.extra["p99_ms"] = percentile(latencies, 99)
        sample.distributions["latency_ms"] = latencies
    sample.extra["missed"] = float(missed)
    sample.note = "emulator notifies at once; real delivery adds the provider's delay"
    return sample
