"""The pass rate of ``casecal worker`` processes on PostgreSQL, by number of workers.

A fleet of C Google connections (E linked events each) is seeded as the fleet scenario seeds
it (bulk, then one real pass each), in a PostgreSQL database of its own (created on the
server named by ``--pg-url`` and dropped at the end); then each connection's tokens are
stored encrypted, as the connect flow leaves them, so that the workers build their adapters
the production way (``ConnectionProviders``: tokens from the database, the emulator's API
and token endpoints from the settings). Then, for each worker count W in turn:

1. every connection gets one host edit through the service layer (an outbox row each);
2. W ``casecal worker`` processes start (the production entry point, ``--concurrency K``)
   and the bench waits until all have registered with the queue;
3. the clock starts, and a pass of every connection is enqueued, as the outbox hook does;
4. the clock stops when no outbox row is pending and no sync job is waiting or running;
   the workers stop.

Measured per W: ``passes`` (sync runs started in the section), ``pass_rate`` (passes per
second of wall time), the workers' CPU (their ``/proc`` user + system time over the section),
the requests against the minimum (per pass: one change-feed read and one write, ``2 C``),
and ``lost`` (edits not on the remote calendar afterwards; must be 0). No push channels are
open, so no echo passes follow: each connection needs exactly one pass. On a 2-core machine
the rate can grow up to the core count at best, less the emulators' and PostgreSQL's share of
the same cores.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import bindparam, func, select, text, update

from bench import minimums
from bench.accounts import CLIENT_ID, CLIENT_SECRET, Counter
from bench.emulator import Admin
from bench.host import BASE_URL
from bench.report import Sample
from bench.scenarios.fleet import Fleet, gathered, seed, table_of
from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.services.appointments import update_appointment
from casecal.store.tables import Connection, OutboxRow, SyncRun
from casecal.sync.queue import SYNC_TASK, apply_queue_schema, enqueue
from casecal.sync.worker import build_app

SCENARIO = "workers"
PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
KEY = "casecal-bench-key"
CONCURRENCY = 4
"""Passes each worker runs at once (``casecal worker``'s default)."""
STALL_S = 120.0
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def settings_for(database_url: str, base: str) -> Settings:
    return Settings(
        database_url=database_url, secret_keys=[KEY], base_url=BASE_URL,
        google_api_base_url=f"{base}/google", google_token_url=f"{base}/google/token",
        google_client_id=CLIENT_ID, google_client_secret=CLIENT_SECRET,
        log_level="WARNING", log_json=True,
    )  # fmt: skip


def worker_env(settings: Settings) -> dict[str, str]:
    return dict(os.environ) | {
        "CASECAL_DATABASE_URL": settings.database_url,
        "CASECAL_SECRET_KEYS": f'["{KEY}"]',
        "CASECAL_BASE_URL": settings.base_url,
        "CASECAL_GOOGLE_API_BASE_URL": settings.google_api_base_url,
        "CASECAL_GOOGLE_TOKEN_URL": settings.google_token_url,
        "CASECAL_GOOGLE_CLIENT_ID": CLIENT_ID,
        "CASECAL_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "CASECAL_LOG_LEVEL": "WARNING",
        "CASECAL_LOG_JSON": "true",
    }


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


async def run(
    base: str, connections: int, *, events: int, workers: Sequence[int], pg_url: str = PG_URL
) -> list[Sample]:
    name = f"casecal_bench_{uuid.uuid4().hex[:10]}"
    await _admin_sql(pg_url, f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    try:
        return await _run(base, url, connections, events=events, workers=workers)
    finally:
        await _admin_sql(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin_sql(pg_url: str, sql: str) -> None:
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(sql.encode())


async def _run(
    base: str, url: str, connections: int, *, events: int, workers: Sequence[int]
) -> list[Sample]:
    settings = settings_for(url, base)
    counter = Counter()
    samples: list[Sample] = []
    async with (
        httpx.AsyncClient(timeout=120.0) as admin_http,
        httpx.AsyncClient(timeout=120.0, event_hooks={"request": [counter.hook]}) as http,
    ):
        admin = Admin(admin_http, base, "google")
        fleet = await seed(admin, http, counter, "google", connections, events, url=url)
        try:
            await fleet.scheduler.stop()
            await _store_tokens(fleet, settings)
            await apply_queue_schema(settings)
            for number, count in enumerate(workers):
                sample = await _round(fleet, settings, admin, count, number)
                samples.append(sample)
        finally:
            await fleet.close()
    return samples


async def _store_tokens(fleet: Fleet, settings: Settings) -> None:
    """Each connection's tokens encrypted in its row, as the connect flow leaves them."""
    cipher = TokenCipher.from_settings(settings)
    expires = datetime.now(UTC) + timedelta(minutes=50)
    rows = [
        {
            "row_id": m.connection_id,
            "refresh": cipher.encrypt(m.account.issued["refresh_token"]),
            "access": cipher.encrypt(m.account.issued["access_token"]),
        }
        for m in fleet.members
    ]
    table = table_of(Connection)
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            refresh_token_enc=bindparam("refresh"), access_token_enc=bindparam("access"),
            access_token_expires_at=expires,
        )
    )  # fmt: skip
    async with fleet.sessionmaker() as session, session.begin():
        await (await session.connection()).execute(statement, rows)


async def _round(fleet: Fleet, settings: Settings, admin: Admin, count: int, number: int) -> Sample:
    titles = await _edit_all(fleet, number)
    procs = [_start_worker(settings, f"bench-w{number}-{i}") for i in range(count)]
    try:
        await _registered(fleet, count)
        await admin.clear_log()
        async with fleet.sessionmaker() as session:
            runs_before = int(await session.scalar(select(func.count()).select_from(SyncRun)) or 0)
        cpu_before = sum(cpu_s(p.pid) for p in procs)
        start = time.perf_counter()
        app = build_app(settings, pool=4)
        async with app.open_async():
            for member in fleet.members:
                await enqueue(app, member.connection_id)
        await _settled(fleet)
        wall = time.perf_counter() - start
        cpu = sum(cpu_s(p.pid) for p in procs) - cpu_before
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    async with fleet.sessionmaker() as session:
        passes = int(await session.scalar(select(func.count()).select_from(SyncRun)) or 0)
        failed = int(
            await session.scalar(
                select(func.count()).select_from(SyncRun).where(SyncRun.outcome != "ok")
            )
            or 0
        )
    passes -= runs_before
    requests = len(await admin.log())
    lost = await _lost(fleet, titles)
    sample = Sample(
        scenario=SCENARIO, provider="google", size=count, wall_s=wall, cpu_s=cpu,
        rss_growth_mb=0.0, requests=requests, round_trips=requests,
        minimum=minimums.fleet("google", [1] * len(fleet.members)), events=passes,
    )  # fmt: skip
    sample.extra = {
        "connections": float(len(fleet.members)),
        "concurrency": float(CONCURRENCY),
        "passes": float(passes),
        "failed": float(failed),
        "pass_rate": passes / wall if wall > 0 else 0.0,
        "cpu_ms_per_pass": cpu * 1000 / passes if passes else 0.0,
        "lost": float(lost),
    }
    sample.note = (
        f"{count} worker(s) x {CONCURRENCY} passes at once, PostgreSQL, "
        f"{len(fleet.members)} connections with one host edit each"
    )
    return sample


async def _edit_all(fleet: Fleet, number: int) -> dict[uuid.UUID, str]:
    """One host edit per connection (its first event); the titles by remote event id."""
    titles: dict[uuid.UUID, str] = {}
    for member in fleet.members:
        title = f"Worker round {number} {member.connection_id.hex[:8]}"
        async with fleet.sessionmaker() as session:
            await update_appointment(session, member.manager, member.entries[0], {"title": title})
        titles[member.connection_id] = title
    return titles


def _start_worker(settings: Settings, name: str) -> subprocess.Popen[bytes]:
    casecal = Path(sys.executable).with_name("casecal")
    command = [str(casecal), "worker", "--concurrency", str(CONCURRENCY), "--name", name]
    return subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=worker_env(settings)
    )


async def _registered(fleet: Fleet, count: int) -> None:
    """Wait until ``count`` workers have registered with the queue."""
    limit = 60.0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        async with fleet.sessionmaker() as session:
            alive = await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        if int(alive or 0) >= count:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{count} worker(s) did not register in {limit:g} s")


async def _settled(fleet: Fleet) -> None:
    """No outbox row pending, no sync job waiting or running; an error only when nothing
    moved for ``STALL_S``."""
    last, moved = -1, time.monotonic()
    while True:
        async with fleet.sessionmaker() as session:
            pending = int(
                await session.scalar(select(func.count()).where(OutboxRow.processed_at.is_(None)))
                or 0
            )
            jobs = int(
                await session.scalar(
                    text(
                        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task "
                        "AND status IN ('todo', 'doing')"
                    ),
                    {"task": SYNC_TASK},
                )
                or 0
            )
        if pending == 0 and jobs == 0:
            return
        if pending + jobs != last:
            last, moved = pending + jobs, time.monotonic()
        elif time.monotonic() - moved > STALL_S:
            raise RuntimeError(f"stalled: {pending} outbox rows, {jobs} jobs")
        await asyncio.sleep(0.1)


async def _lost(fleet: Fleet, titles: dict[uuid.UUID, str]) -> int:
    async def title(member_index: int) -> str | None:
        m = fleet.members[member_index]
        remote = await m.provider.get_event(m.account.calendar_id, m.remote_ids[0])
        return remote.event.title if remote.event is not None else None

    got = await gathered([partial(title, i) for i in range(len(fleet.members))])
    return sum(seen != titles[m.connection_id] for m, seen in zip(fleet.members, got, strict=True))
