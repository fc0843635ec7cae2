"""The embedded scheduler with a recording pass runner: one pass per connection at a time, a
burst of 1,000 notifications coalesced into few passes with no trigger lost, backoff with
Retry-After, the database sweep (I7), and channels renewed before they expire."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import uuid
from datetime import timedelta

import pytest
from push_support import FakeClock, Pushed, RecordingRunner
from sqlalchemy import select, update

from casecal.auth.encryption import secret_material
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    OutboxRow,
    ProviderName,
    PushChannelRow,
)
from casecal.sync import triggers
from casecal.sync.scheduler import Scheduler

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _extra_connections(p: Pushed, count: int) -> list[uuid.UUID]:
    world = p.world
    ids = [uuid.uuid4() for _ in range(count)]
    async with world.app.state.sessionmaker() as session, session.begin():
        for connection_id in ids:
            session.add(
                Connection(
                    id=connection_id, firm_id=world.firm_id, user_id=world.user_id,
                    provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                    calendar_id="cal",
                )
            )  # fmt: skip
    return ids


@pytest.mark.parametrize("world", ["google"], indirect=True)
async def test_never_two_passes_of_one_connection_and_every_kick_served(pushed: Pushed) -> None:
    ids = await _extra_connections(pushed, 6)
    runner = RecordingRunner(delay=0.005)
    scheduler = Scheduler(
        pushed.world.app.state.sessionmaker, runner, concurrency=3, sweep_seconds=3600
    )
    await scheduler.start()
    last_kick: dict[uuid.UUID, float] = {}
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    try:
        for _ in range(300):
            connection_id = rng.choice(ids)
            last_kick[connection_id] = loop.time()
            await scheduler.kick(connection_id)
            if rng.random() < 0.3:
                await asyncio.sleep(rng.random() * 0.004)
        async with asyncio.timeout(20):
            await scheduler.drain()
    finally:
        await scheduler.stop()
    assert runner.max_per_connection == 1
    assert runner.max_total > 1
    assert runner.max_total <= 3
    for connection_id, kicked in last_kick.items():  # a pass started after each last kick
        starts = [t for c, t in runner.started if c == connection_id]
        assert starts
        assert max(starts) >= kicked
    assert scheduler.stats.passes < 300


@pytest.mark.parametrize("world", ["google"], indirect=True)
async def test_a_burst_of_1000_notifications_loses_none_and_coalesces(pushed: Pushed) -> None:
    world = pushed.world
    secret = "burst-secret"
    key = secret_material(world.app.state.settings)[0]
    async with world.app.state.sessionmaker() as session, session.begin():
        session.add(
            PushChannelRow(
                firm_id=world.firm_id, connection_id=world.connection_id,
                provider=ProviderName.GOOGLE, channel_id="burst", resource_id="res",
                secret_digest=hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest(),
                expires_at=pushed.now() + timedelta(days=1),
            )
        )  # fmt: skip
    runner = RecordingRunner(delay=0.5)
    scheduler = Scheduler(world.app.state.sessionmaker, runner, concurrency=4, sweep_seconds=3600)
    world.app.state.scheduler = world.app.state.kicker = scheduler
    await scheduler.start()
    loop = asyncio.get_running_loop()
    began = loop.time()

    async def send(number: int) -> int:
        response = await world.api.post(
            "/webhooks/google",
            headers={
                "X-Goog-Channel-ID": "burst", "X-Goog-Channel-Token": secret,
                "X-Goog-Resource-ID": "res", "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": str(number),
            },
        )  # fmt: skip
        return response.status_code

    try:
        statuses: list[int] = []
        for chunk in range(0, 1000, 50):
            statuses += await asyncio.gather(*(send(n) for n in range(chunk + 2, chunk + 52)))
        async with asyncio.timeout(20):
            await scheduler.drain()
    finally:
        await scheduler.stop()
    elapsed = loop.time() - began
    assert statuses == [200] * 1000
    accepted = pushed.metrics.value(
        "casecal_webhook_notifications_total", {"provider": "google", "outcome": "accepted"}
    )
    duplicates = pushed.metrics.value(
        "casecal_webhook_notifications_total", {"provider": "google", "outcome": "duplicate"}
    )
    assert accepted + duplicates == 1000
    assert accepted >= 1
    assert scheduler.stats.kicks == accepted
    # one pass at a time, at most one pending: never more passes than back-to-back ones fit
    assert scheduler.stats.passes >= 1
    assert scheduler.stats.passes <= elapsed / runner.delay + 2
    assert scheduler.stats.passes <= 60
    assert runner.max_per_connection == 1
    assert await pushed.requested() is None  # the last notification was served by a pass


@pytest.mark.parametrize("world", ["google"], indirect=True)
async def test_failures_back_off_and_honour_retry_after(pushed: Pushed) -> None:
    world = pushed.world
    clock = FakeClock()
    book = triggers.RetryAfterBook()
    runner = RecordingRunner(delay=0, outcomes=["failed", "failed"])
    scheduler = Scheduler(
        world.app.state.sessionmaker, runner, concurrency=1, sweep_seconds=3600, clock=clock,
        retry_after=book.take,
    )  # fmt: skip
    await scheduler.start()
    try:
        await scheduler.kick(world.connection_id)
        await scheduler.drain()
        row = await world.connection()
        assert row.consecutive_failures == 1
        assert row.backoff_until == clock.now + triggers.backoff_delay(1)
        assert row.sync_requested_at is not None  # the retry is remembered (I7)
        await scheduler.kick(world.connection_id)
        await scheduler.drain()
        assert len(runner.started) == 1
        assert scheduler.stats.skipped_backoff >= 1
        async with world.app.state.sessionmaker() as session:
            assert await triggers.due_connections(session, clock.now) == []
        clock.advance(31)
        runner.during = lambda _c: book.note(600)  # the provider said Retry-After: 600
        await scheduler.kick(world.connection_id)
        await scheduler.drain()
        row = await world.connection()
        assert row.consecutive_failures == 2
        assert row.backoff_until == clock.now + timedelta(seconds=600)
        clock.advance(601)
        runner.during = None
        await scheduler.kick(world.connection_id)
        await scheduler.drain()
    finally:
        await scheduler.stop()
    row = await world.connection()
    assert len(runner.started) == 3
    assert (row.consecutive_failures, row.backoff_until, row.sync_requested_at) == (0, None, None)
    assert row.next_poll_at == clock.now + timedelta(minutes=15)


@pytest.mark.parametrize("world", ["google"], indirect=True)
async def test_the_sweep_finds_pending_work_without_any_job(pushed: Pushed) -> None:
    world = pushed.world
    clock = FakeClock()
    runner = RecordingRunner(delay=0)
    scheduler = Scheduler(world.app.state.sessionmaker, runner, sweep_seconds=3600, clock=clock)
    await scheduler.start()
    try:
        assert await scheduler.sweep() == 1  # never polled yet
        await scheduler.drain()
        assert {c for c, _ in runner.started} == {world.connection_id}
        await world.post("/appointments", {
            "title": "Consult", "start_at": "2030-01-02T15:00:00Z",
            "end_at": "2030-01-02T16:00:00Z", "time_zone": "UTC",
        })  # fmt: skip
        assert await scheduler.sweep() == 1  # a pending outbox row, no kick
        await scheduler.drain()
        async with world.app.state.sessionmaker() as session, session.begin():
            await session.execute(update(OutboxRow).values(processed_at=clock.now))  # as a pass
        async with world.app.state.sessionmaker() as session, session.begin():
            await triggers.mark_dirty(session, world.connection_id, clock.now)
        assert await scheduler.sweep() == 1  # a dirty mark left by a lost job
        await scheduler.drain()
        await pushed.channels.open(world.connection_id)
        clock.advance(16 * 60)
        assert await scheduler.sweep() == 0  # a healthy push channel: no poll
        async with world.app.state.sessionmaker() as session, session.begin():
            for row in (await session.scalars(select(PushChannelRow))).all():
                row.expires_at = clock.now - timedelta(seconds=1)
        assert await scheduler.sweep() == 1  # the channel lapsed: poll
    finally:
        await scheduler.stop()


async def test_channels_are_renewed_before_they_expire(pushed: Pushed) -> None:
    world = pushed.world
    first = await pushed.channels.open(world.connection_id)
    assert first is not None
    await pushed.flush()
    assert await pushed.channels.renew_due() == 0
    lifetime = first.expires_at - pushed.now()
    for _ in range(3):  # past the original expiry, renewing at each half-life
        pushed.advance(lifetime.total_seconds() * 0.55)
        assert await pushed.channels.renew_due() == 1
        await pushed.flush()
    (live,) = await pushed.live()
    assert live.expires_at > pushed.now() + lifetime * 0.9
    if world.remote.name == "google":
        assert live.channel_id != first.channel_id
        assert all(
            c.stopped for i, c in pushed.emu.notifier.channels.items() if i != live.channel_id
        )  # type: ignore[union-attr]
    else:
        assert live.channel_id == first.channel_id
    start = pushed.now() + timedelta(days=1)
    world.remote.insert("After renewals", start, start + timedelta(hours=1))
    await pushed.flush()
    accepted = pushed.metrics.value(
        "casecal_webhook_notifications_total",
        {"provider": world.remote.name, "outcome": "accepted"},
    )
    assert accepted == 1
    assert await pushed.channels.close(world.connection_id) == 1
    assert await pushed.live() == []
