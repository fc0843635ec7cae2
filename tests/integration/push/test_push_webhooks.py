"""Webhook receivers against real emulator notifications: the Graph handshake, forged secrets,
unknown and stopped channels, replays, lifecycle events, and a remote change travelling
notification -> webhook -> scheduler -> pass into CaseCal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from push_support import Pushed

from casecal.sync.scheduler import Scheduler


def _labels(outcome: str, provider: str) -> dict[str, str]:
    return {"provider": provider, "outcome": outcome}


def notifications(p: Pushed, outcome: str) -> float:
    name = p.world.remote.name
    return p.metrics.value("casecal_webhook_notifications_total", _labels(outcome, name))


async def test_graph_validation_handshake_echoes_the_token(pushed: Pushed) -> None:
    for path in ("/webhooks/microsoft", "/webhooks/microsoft/lifecycle"):
        response = await pushed.world.api.post(
            path, params={"validationToken": "Validation: a+b & c"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "Validation: a+b & c"


async def test_opening_a_channel_passes_the_provider_checks(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    secret = pushed.secret_of(row)
    assert len(secret) >= 48
    assert secret not in row.secret_digest
    await pushed.flush()
    assert await pushed.requested() is None  # Google's "sync" message is not a change
    assert pushed.kicks.kicks == []


async def test_forged_secret_is_refused_and_marks_nothing(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    api = pushed.world.api
    if pushed.world.remote.name == "google":
        response = await api.post(
            "/webhooks/google",
            headers={
                "X-Goog-Channel-ID": row.channel_id, "X-Goog-Channel-Token": "forged",
                "X-Goog-Resource-ID": row.resource_id or "", "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": "7",
            },
        )  # fmt: skip
        assert response.status_code == 401
    else:
        item = {"subscriptionId": row.channel_id, "clientState": "forged", "changeType": "updated",
                "resourceData": {"id": "x", "@odata.etag": 'W/"1"'}}  # fmt: skip
        response = await api.post("/webhooks/microsoft", json={"value": [item]})
        assert response.status_code == 403
    assert notifications(pushed, "forged") == 1
    assert await pushed.requested() is None
    assert pushed.kicks.kicks == []


async def test_unknown_and_stopped_channels_are_dropped(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    secret = pushed.secret_of(row)
    await pushed.flush()
    before = notifications(pushed, "unknown")  # Google's "sync" may beat the row's commit
    await pushed.channels.close(pushed.world.connection_id)
    api = pushed.world.api
    for channel_id in ("no-such-channel", row.channel_id):
        if pushed.world.remote.name == "google":
            response = await api.post(
                "/webhooks/google",
                headers={
                    "X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": secret,
                    "X-Goog-Resource-ID": row.resource_id or "", "X-Goog-Resource-State": "exists",
                    "X-Goog-Message-Number": "9",
                },
            )  # fmt: skip
        else:
            item = {"subscriptionId": channel_id, "clientState": secret, "changeType": "created",
                    "resourceData": {"id": "x", "@odata.etag": 'W/"1"'}}  # fmt: skip
            response = await api.post("/webhooks/microsoft", json={"value": [item]})
        assert response.status_code in (200, 202)
    assert notifications(pushed, "unknown") == before + 1
    assert notifications(pushed, "stopped") == 1
    assert await pushed.requested() is None
    assert pushed.kicks.kicks == []


async def test_a_replayed_notification_is_ignored(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    await pushed.flush()
    now = datetime.now(UTC)
    pushed.world.remote.insert(
        "Client call", now + timedelta(days=1), now + timedelta(days=1, hours=1)
    )
    await pushed.flush()
    assert notifications(pushed, "accepted") == 1
    assert len(pushed.kicks.kicks) == 1
    assert await pushed.requested() is not None
    api = pushed.world.api
    if pushed.world.remote.name == "google":
        channel = pushed.emu.notifier.channels[row.channel_id]  # type: ignore[union-attr]
        response = await api.post(
            "/webhooks/google",
            headers={
                "X-Goog-Channel-ID": row.channel_id, "X-Goog-Channel-Token": channel.token or "",
                "X-Goog-Resource-ID": channel.resource_id, "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": str(channel.messages),
            },
        )  # fmt: skip
        assert response.status_code == 200
    else:
        sent = [
            d.payload for d in pushed.emu.notifier.sent if "changeType" in d.payload["value"][0]
        ]  # type: ignore[union-attr]
        response = await api.post("/webhooks/microsoft", json=sent[-1])
        assert response.status_code == 202
    assert notifications(pushed, "duplicate") == 1
    assert len(pushed.kicks.kicks) == 1


@pytest.mark.parametrize("world", ["microsoft"], indirect=True)
async def test_subscription_removed_recreates_and_resyncs(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    pushed.emu.send_lifecycle(row.channel_id, "subscriptionRemoved")  # type: ignore[union-attr]
    await pushed.flush()
    live = await pushed.live()
    assert [r.channel_id for r in live] != [row.channel_id]
    assert len(live) == 1
    assert live[0].channel_id in pushed.emu.state.subscriptions  # type: ignore[union-attr]
    assert await pushed.requested() is not None
    assert pushed.kicks.kicks
    assert pushed.kicks.kicks[-1][0] == pushed.world.connection_id


@pytest.mark.parametrize("world", ["microsoft"], indirect=True)
async def test_reauthorization_required_renews_the_subscription(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    pushed.advance(3600)
    pushed.emu.send_lifecycle(row.channel_id, "reauthorizationRequired")  # type: ignore[union-attr]
    await pushed.flush()
    (renewed,) = await pushed.live()
    assert renewed.channel_id == row.channel_id
    assert renewed.expires_at >= row.expires_at + timedelta(minutes=59)
    patched = [
        e
        for e in pushed.world.remote.log.entries
        if e.method == "PATCH" and "/subscriptions/" in e.path
    ]
    assert patched
    assert patched[-1].status == 200
    assert await pushed.requested() is None


@pytest.mark.parametrize("world", ["microsoft"], indirect=True)
async def test_missed_marks_a_resync(pushed: Pushed) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    pushed.emu.send_lifecycle(row.channel_id, "missed")  # type: ignore[union-attr]
    await pushed.flush()
    assert await pushed.requested() is not None
    assert [k[0] for k in pushed.kicks.kicks] == [pushed.world.connection_id]


async def test_a_remote_change_reaches_casecal_through_the_webhook(pushed: Pushed) -> None:
    world = pushed.world
    scheduler = Scheduler(
        world.app.state.sessionmaker, world.engine, concurrency=2, sweep_seconds=3600,
        observer=pushed.metrics,
    )  # fmt: skip
    world.app.state.scheduler = world.app.state.kicker = scheduler
    await pushed.channels.open(world.connection_id)
    await scheduler.start()
    try:
        start = datetime.now(UTC) + timedelta(days=2)
        world.remote.insert("Interview prep with client", start, start + timedelta(hours=1))
        async with asyncio.timeout(15):
            while True:
                titles = {a["title"] for a in await world.appointments()}
                if "Interview prep with client" in titles:
                    break
                await asyncio.sleep(0.05)
            await scheduler.drain()
    finally:
        await scheduler.stop()
    assert notifications(pushed, "accepted") >= 1
    assert scheduler.stats.passes >= 1
    assert scheduler.stats.failures == 0
    assert await pushed.requested() is None
    text = (await world.api.get("/metrics")).text
    assert 'casecal_sync_passes_total{outcome="ok",trigger="webhook"}' in text
    assert 'casecal_connections{status="active"} 1.0' in text
    assert 'casecal_change_latency_seconds_count{direction="remote_to_host"}' in text
