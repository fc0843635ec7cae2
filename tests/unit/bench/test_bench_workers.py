"""The workers scenario on PostgreSQL: a tiny fleet served by one, then two ``casecal worker``
processes (skipped when no PostgreSQL server answers)."""

from __future__ import annotations

import asyncio
import os

import psycopg
import pytest
from bench.emulator import EmulatorProcess
from bench.runner import Job, run_all
from bench.scenarios.workers import PG_URL

pytestmark = pytest.mark.postgres


def _reachable(url: str) -> bool:
    async def probe() -> None:
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=3):
            pass

    try:
        asyncio.run(probe())
    except (OSError, psycopg.Error):
        return False
    return True


def test_every_connection_is_served_once_by_any_number_of_workers() -> None:
    url = os.environ.get("CASECAL_BENCH_POSTGRES_URL", PG_URL)
    if not _reachable(url):
        pytest.skip(f"PostgreSQL not reachable at {url}")
    with EmulatorProcess() as emulators:
        job = Job("workers", "google", 5, {"events": 3}, (1, 2))
        samples = run_all([job], emulators.base, 1, isolate=False)
    assert [s.size for s in samples] == [1, 2]
    for sample in samples:
        assert sample.extra["lost"] == 0
        assert sample.extra["failed"] == 0
        assert sample.extra["passes"] >= 5
        assert sample.minimum == 10  # one feed read and one write per connection
        assert sample.requests >= sample.minimum
        assert sample.extra["pass_rate"] > 0
