"""Latency host -> remote over repeated single changes: each change is committed, a pass runs at
once (an idealised trigger: no scheduler queueing), and the time until the remote write is done
is recorded. Remote -> host needs a push receiver in the app."""

from __future__ import annotations

import importlib.util
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from bench import minimums
from bench.report import Sample, percentile
from bench.scenarios.common import Setup, setup
from bench.workload import host_specs

BASE_ENTRIES = 20
RECEIVER = "casecal.web.routes.webhooks"


def remote_to_host_note() -> str:
    """What the table says about remote -> host latency."""
    if not has_receiver():
        return "remote->host: not measured: no push receiver yet"
    return "remote->host: see latency r->h"


def has_receiver() -> bool:
    return importlib.util.find_spec(RECEIVER) is not None


async def run(base: str, provider: str, size: int) -> list[Sample]:
    """On its own: a small calendar of ``BASE_ENTRIES`` entries."""
    async with setup(base, provider) as s:
        entry_ids = await s.host.add(host_specs(BASE_ENTRIES, now=datetime.now(UTC)))
        await s.host.sync()
        return [await host_to_remote(s, entry_ids, size)]


async def host_to_remote(s: Setup, entry_ids: Sequence[uuid.UUID], size: int) -> Sample:
    """``size`` single changes to ``entry_ids`` (round robin), each followed by a pass."""
    latencies: list[float] = []

    async def changes() -> None:
        for i in range(size):
            started = time.perf_counter()
            await s.host.retitle([entry_ids[i % len(entry_ids)]], f"latency {i}")
            await s.host.sync()
            latencies.append((time.perf_counter() - started) * 1000)

    sample, _ = await s.measure(
        changes, scenario="latency h->r", size=size,
        minimum=size * minimums.single_change(), events=size,
    )  # fmt: skip
    sample.extra["p50_ms"] = percentile(latencies, 50)
    sample.extra["p99_ms"] = percentile(latencies, 99)
    sample.distributions["latency_ms"] = latencies
    sample.note = remote_to_host_note()
    return sample
