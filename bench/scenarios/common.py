"""What every scenario does around its measured section: an emulated account, its adapter on a
counting HTTP client, CaseCal's side, and one measured call turned into a ``Sample``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx

from bench.accounts import Counter, RemoteAccount
from bench.emulator import Admin
from bench.host import Host
from bench.measure import Meter
from bench.report import Sample
from casecal.providers.base import Provider

T = TypeVar("T")


@dataclass
class Setup:
    account: RemoteAccount
    http: httpx.AsyncClient
    counter: Counter
    provider: Provider
    host: Host

    async def measure(
        self,
        section: Callable[[], Awaitable[T]],
        *,
        scenario: str,
        size: int,
        minimum: int,
        events: int,
    ) -> tuple[Sample, T]:
        """Run ``section`` with a clean request log, and sample it."""
        await self.account.admin.clear_log()
        before = self.counter.sent
        meter = Meter()
        meter.start()
        result = await section()
        measured = meter.stop()
        calls = await self.account.admin.log(self.account.email)
        sample = Sample(
            scenario=scenario, provider=self.account.provider_name, size=size,
            wall_s=measured.wall_s, cpu_s=measured.cpu_s, rss_growth_mb=measured.rss_growth_mb,
            requests=len(calls), round_trips=self.counter.sent - before, minimum=minimum,
            events=events,
        )  # fmt: skip
        return sample, result

    async def statuses(self) -> list[int]:
        return [c.status for c in await self.account.admin.log(self.account.email)]


@asynccontextmanager
async def setup(base: str, provider_name: str) -> AsyncIterator[Setup]:
    async with httpx.AsyncClient(timeout=120.0) as admin_http:
        admin = Admin(admin_http, base, provider_name)
        account = await RemoteAccount.create(provider_name, admin)
        counter = Counter()
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(
            timeout=120.0, limits=limits, event_hooks={"request": [counter.hook]}
        ) as http:
            provider = await account.adapter(http)
            host = await Host.create(provider_name, account.email, account.calendar_id, provider)
            try:
                yield Setup(account, http, counter, provider, host)
            finally:
                await host.close()
