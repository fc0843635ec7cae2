"""The jobs of a bench run and how each runs: in a fresh spawned process (so CPU time and peak
RSS are the sample's own) or, for the smoke test, in this one."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from bench.report import Sample
from bench.scenarios import (
    fleet,
    idle,
    imports,
    latency,
    lifecycle,
    throttled,
    webhook,
    workers,
)
from casecal.logging import configure_logging

SCENARIOS = (
    "lifecycle", "import", "latency", "webhook", "throttled", "fleet", "idle", "workers",
)  # fmt: skip
"""``latency`` and ``webhook`` on their own use a small calendar; ``lifecycle`` measures both
latencies too, on its N-entry connection, when ``--latency-changes`` is above 0. ``fleet``'s
and ``idle``'s size is their number of connections."""


@dataclass(frozen=True)
class Job:
    scenario: str
    provider: str
    size: int
    options: dict[str, float] = field(default_factory=dict)
    """Scenario parameters; ``runs``, when set, overrides the runs of ``run_all`` for this job."""
    counts: tuple[int, ...] = ()
    """``workers``: the numbers of worker processes, one sample each, on one seeded fleet."""


def run_job(job: Job, base: str) -> list[Sample]:
    if job.scenario == "lifecycle":
        changes = int(job.options.get("latency_changes", 0))
        return asyncio.run(lifecycle.run(base, job.provider, job.size, changes))
    if job.scenario == "import":
        return asyncio.run(imports.run(base, job.provider, job.size))
    if job.scenario == "latency":
        return asyncio.run(latency.run(base, job.provider, job.size))
    if job.scenario == "webhook":
        return asyncio.run(webhook.run(base, job.provider, job.size))
    if job.scenario == "throttled":
        return asyncio.run(
            throttled.run(
                base, job.provider, job.size,
                per_window=int(job.options["per_window"]),
                window_seconds=float(job.options["window_seconds"]),
            )
        )  # fmt: skip
    if job.scenario == "fleet":
        return asyncio.run(
            fleet.run(
                base, job.provider, job.size, events=int(job.options["events"]),
                rate=job.options["rate"], seconds=job.options["seconds"],
            )
        )  # fmt: skip
    if job.scenario == "idle":
        return asyncio.run(
            idle.run(
                base, job.provider, job.size, events=int(job.options["events"]),
                window=job.options["window"],
            )
        )  # fmt: skip
    if job.scenario == "workers":
        pg_url = os.environ.get("CASECAL_BENCH_POSTGRES_URL", workers.PG_URL)
        return asyncio.run(
            workers.run(
                base, job.size, events=int(job.options["events"]), workers=job.counts,
                pg_url=pg_url,
            )
        )  # fmt: skip
    raise ValueError(f"unknown scenario {job.scenario!r}")


def _child(job: Job, base: str) -> list[Sample]:
    """A job in its spawned process: quiet logs, then the job."""
    configure_logging(json=False, level="WARNING")
    return run_job(job, base)


def run_all(
    jobs: Sequence[Job],
    base: str,
    runs: int,
    *,
    isolate: bool = True,
    told: Callable[[str], None] = lambda _line: None,
) -> list[Sample]:
    samples: list[Sample] = []
    for job in jobs:
        job_runs = int(job.options.get("runs", runs))
        for attempt in range(1, job_runs + 1):
            told(f"{job.scenario} {job.provider} {job.size} run {attempt}/{job_runs}")
            if not isolate:
                samples += run_job(job, base)
                continue
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
                samples += pool.submit(_child, job, base).result()
    return samples
