"""Scale-out on PostgreSQL with real ``casecal worker`` processes and the emulators served by
another process over loopback: one pass per connection at a time, every trigger served,
convergence, and recovery from workers killed with SIGKILL in the middle of a pass."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from scale_fleet import (
    Firm,
    Member,
    WorkerProcs,
    fleet_settings,
    free_port,
    overlaps,
    settings_env,
    start_emulators,
)
from sqlalchemy import text

from casecal.config import Settings
from casecal.errors import Conflict
from casecal.store.db import make_engine, make_sessionmaker
from casecal.sync.queue import SYNC_TASK, apply_queue_schema, enqueue
from casecal.sync.worker import build_app

pytestmark = pytest.mark.postgres


@dataclass
class Fleet:
    settings: Settings
    firm: Firm
    workers: WorkerProcs
    http: httpx.AsyncClient


@pytest.fixture
async def fleet(postgres_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    port = free_port()
    emulators = start_emulators(port, tmp_path / "emulators.log")
    settings = fleet_settings(postgres_url, f"http://127.0.0.1:{port}")
    await apply_queue_schema(settings)
    engine = make_engine(postgres_url)
    firm = Firm(make_sessionmaker(engine), settings)
    await firm.reset()
    workers = WorkerProcs(settings_env(settings), tmp_path)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            yield Fleet(settings, firm, workers, http)
    finally:
        workers.stop_all()
        emulators.terminate()
        emulators.wait(10)
        await firm.reset()
        await engine.dispose()


async def sync_jobs(firm: Firm) -> dict[str, int]:
    async with firm.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT status::text, count(*) FROM procrastinate_jobs "
                "WHERE task_name = :task GROUP BY status"
            ),
            {"task": SYNC_TASK},
        )
        return {str(status): int(count) for status, count in rows.all()}


async def settle(firm: Firm, limit: float) -> float:
    """Wait until no outbox row is pending and no sync job is waiting or running."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        jobs = await sync_jobs(firm)
        if await firm.pending_outbox() == 0 and not jobs.get("todo") and not jobs.get("doing"):
            return time.monotonic() - started
        await asyncio.sleep(0.25)
    runs = await firm.runs()
    raise AssertionError(
        f"not settled after {limit} s: {await firm.pending_outbox()} outbox rows pending, "
        f"jobs {await sync_jobs(firm)}, {len(runs)} passes so far"
    )


async def edit(firm: Firm, member: Member, rng: random.Random) -> str:
    """One random host change (or none: a bare trigger); an entry the engine is writing at the
    same moment may refuse the change as a conflict, which the user would simply retry."""
    roll = rng.random()
    try:
        if roll < 0.5 or not member.entries:
            await firm.add_entry(member)
            return "create"
        if roll < 0.75:
            await firm.retitle_entry(member, rng.randrange(1 << 16))
            return "update"
        if roll < 0.85:
            await firm.delete_entry(member, rng.randrange(1 << 16))
            return "delete"
    except Conflict:
        return "conflict"
    return "trigger only"


async def assert_converged(fleet: Fleet) -> int:
    """Each remote calendar holds exactly the host entries of its owner (no duplicate)."""
    total = 0
    for member in fleet.firm.members:
        host = await fleet.firm.host_titles(member)
        remote = await fleet.firm.remote_titles(fleet.http, member)
        assert remote == host, f"{member.email}: remote {remote} != host {host}"
        total += len(host)
    return total


async def test_three_workers_serve_200_connections_one_pass_at_a_time(fleet: Fleet) -> None:
    firm, rng = fleet.firm, random.Random(6)
    began = time.monotonic()
    await firm.create(fleet.http, 200)
    for member in firm.members:
        await firm.add_entry(member)
    seeded = time.monotonic() - began
    last_trigger: dict[uuid.UUID, datetime] = {}
    calls, queued, edits = 0, 0, Counter[str]()
    app = build_app(fleet.settings, pool=4)
    async with app.open_async():
        for _ in range(3):
            fleet.workers.start()
        for _burst in range(6):
            for member in rng.sample(firm.members, 20):
                edits[await edit(firm, member, rng)] += 1
                for _ in range(rng.randint(2, 8)):
                    last_trigger[member.connection_id] = datetime.now(UTC)
                    calls += 1
                    queued += await enqueue(app, member.connection_id)
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        bursts = time.monotonic() - began - seeded
        settle_time = await settle(firm, limit=120)
    fleet.workers.stop_all()
    elapsed = time.monotonic() - began

    runs = await firm.runs()
    assert overlaps(runs, {}) == []
    outcomes = Counter(run.outcome for run in runs)
    assert set(outcomes) == {"ok"}, outcomes
    latest_start: dict[uuid.UUID, datetime] = {}
    for run in sorted(runs, key=lambda r: r.started_at):
        latest_start[run.connection_id] = run.started_at
    unserved = [c for c, t in last_trigger.items() if latest_start.get(c, t) <= t]
    assert unserved == [], f"{len(unserved)} connections triggered after their last pass began"
    assert await firm.pending_outbox() == 0
    entries = await assert_converged(fleet)
    busiest = max(Counter(run.connection_id for run in runs).values())
    durations = sorted(
        (r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at
    )
    median, slowest = durations[len(durations) // 2], durations[-1]
    print(
        f"\n[scale] 3 workers x 3 slots, 200 connections, {entries} entries converged in "
        f"{elapsed:.1f} s (seeding {seeded:.1f} s, bursts {bursts:.1f} s, settled "
        f"{settle_time:.1f} s after the last burst)"
        f"\n[scale] host changes {dict(edits)}; {calls} enqueue calls -> {queued} jobs queued, "
        f"{calls - queued} coalesced into a pending pass -> {len(runs)} passes "
        f"(at most {busiest} for one connection; pass median {median:.2f} s, max {slowest:.2f} s)"
        f"\n[scale] overlapping passes of one connection: 0; triggers not followed by a pass: 0; "
        f"outbox rows pending: 0; outcomes {dict(outcomes)}"
    )


async def mid_pass(firm: Firm) -> list[str]:
    """Workers with a pass in flight (its run row open; the trigger names the worker)."""
    async with firm.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT DISTINCT trigger FROM sync_runs WHERE finished_at IS NULL")
        )
        return [str(trigger).removeprefix("worker:") for (trigger,) in rows.all()]


async def test_workers_killed_mid_pass_lose_nothing_and_duplicate_nothing(fleet: Fleet) -> None:
    firm, rng = fleet.firm, random.Random(9)
    await firm.create(fleet.http, 20)
    for member in firm.members:
        for _ in range(8):
            await firm.add_entry(member)
    fault = {"kind": "latency", "delay": 0.05, "method": "POST", "path": "/events"}
    await fleet.http.post(f"{firm.emulator}/_emulator/faults", json=fault)
    fleet.workers.concurrency = 2
    kills: dict[str, datetime] = {}
    began = time.monotonic()
    app = build_app(fleet.settings, pool=4)
    async with app.open_async():
        for _ in range(3):
            fleet.workers.start()
        for member in firm.members:
            await enqueue(app, member.connection_id)
        for _round in range(4):
            deadline = time.monotonic() + 20
            victims: list[str] = []
            while not victims and time.monotonic() < deadline:
                victims = [n for n in await mid_pass(firm) if n in fleet.workers.alive()]
                await asyncio.sleep(0.05)
            assert victims, "no pass was running to kill"
            kills[victims[0]] = datetime.now(UTC)
            fleet.workers.kill(victims[0])
            fleet.workers.start()
            for member in rng.sample(firm.members, 6):
                await edit(firm, member, rng)
                await firm.add_entry(member)
                await enqueue(app, member.connection_id)
            await asyncio.sleep(0.3)
        settle_time = await settle(firm, limit=70)
    fleet.workers.stop_all()
    elapsed = time.monotonic() - began

    runs = await firm.runs()
    killed = [run for run in runs if run.finished_at is None]
    assert killed, "no kill hit a pass in flight"
    ends = {run.id: kills[run.trigger.removeprefix("worker:")] for run in killed}
    assert overlaps(runs, ends) == []
    for run in killed:
        later = [
            r for r in runs if r.connection_id == run.connection_id and r.started_at > ends[run.id]
        ]
        assert any(r.outcome == "ok" and r.trigger != run.trigger for r in later), (
            f"pass {run.id} was never redone by another worker"
        )
    async with firm.sessionmaker() as session:
        recovered = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed' AND task_name = :t"
            ),
            {"t": SYNC_TASK},
        )
    assert int(recovered or 0) >= len(killed)
    assert await firm.pending_outbox() == 0
    entries = await assert_converged(fleet)
    print(
        f"\n[kill] {len(kills)} workers SIGKILLed mid-pass ({len(killed)} passes cut short, "
        f"{recovered} stalled jobs recovered by the sweep: failed and re-enqueued); "
        f"{len(runs)} passes in all, settled in {settle_time:.1f} s, total {elapsed:.1f} s"
        f"\n[kill] 20 connections, {entries} entries: remote == host for every connection "
        f"(no duplicate, nothing lost); overlapping passes of one connection: 0"
    )
