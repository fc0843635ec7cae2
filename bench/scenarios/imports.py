"""Initial import of a remote calendar of N events (80% single, 15% weekly series with one
edited and one cancelled occurrence, 5% all-day, several zones) into a new connection; on
Google, Home Assistant's ``gcal_sync`` then imports the same calendar (``bench.scenarios.peer``)
and CaseCal's sample carries the ratio of the two CPU times (``cpu_vs_gcal_sync``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bench import minimums
from bench.report import Sample
from bench.scenarios import peer
from bench.scenarios.common import setup
from bench.workload import remote_specs
from casecal.providers.base import SyncWindow


async def run(base: str, provider: str, size: int) -> list[Sample]:
    async with setup(base, provider) as s:
        now = datetime.now(UTC)
        await s.account.seed(remote_specs(size, today=now.date()))
        window = SyncWindow(start=now - timedelta(days=31), end=now + timedelta(days=365))
        async with httpx.AsyncClient(timeout=120.0) as http:
            listed = await s.account.listing_size(http, window)
        stored = len(await s.account.event_ids())
        sample, _ = await s.measure(
            s.host.sync, scenario="import", size=size,
            minimum=minimums.initial_import(provider, listed, stored), events=size,
        )  # fmt: skip
        sample.extra["listed"] = float(listed)
        if provider != "google":
            return [sample]
        other = await peer.gcal_sync_import(s, size, window.start)
        if other.cpu_s > 0:
            sample.extra["cpu_vs_gcal_sync"] = sample.cpu_s / other.cpu_s
        return [sample, other]
