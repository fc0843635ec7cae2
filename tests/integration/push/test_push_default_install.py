"""The default install, as ``make demo`` runs it: no ``CASECAL_SECRET_KEYS`` (channel secrets are
made under the key file in the data directory) and the embedded scheduler on. A change made in
the remote calendar is announced, the notification is accepted, and the app's own scheduler
syncs the connection with no other trigger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from push_support import Pushed
from sync_world import World

from casecal.auth.encryption import KEY_FILE_NAME
from casecal.config import Settings
from casecal.sync.channels import ChannelManager
from casecal.sync.scheduler import Scheduler


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    # Only what a test must set: where the data lives (a fresh directory, where the key file
    # is made) and the URL the test client calls. No secret_keys; the embedded scheduler on.
    return Settings(data_dir=tmp_path, database_url=database_url, base_url="http://testserver")


@dataclass
class AppOwn:
    """The scheduler and channel manager the app built for itself at start-up."""

    scheduler: Scheduler
    channels: ChannelManager


@pytest.fixture
def app_own(world: World) -> AppOwn:
    """Taken before ``pushed`` puts its recorders in their place. Both talk to the world's
    emulator: the app's own engine would call the real providers' URLs."""
    scheduler, channels = world.app.state.scheduler, world.app.state.channels
    assert isinstance(scheduler, Scheduler)
    assert isinstance(channels, ChannelManager)
    scheduler.runner = world.engine
    channels.provider_for = world.engine.provider_for
    return AppOwn(scheduler, channels)


def _notifications(p: Pushed, outcome: str) -> float:
    labels = {"provider": p.world.remote.name, "outcome": outcome}
    return p.metrics.value("casecal_webhook_notifications_total", labels)


async def test_a_notification_is_accepted_and_the_connection_synced(
    app_own: AppOwn, pushed: Pushed
) -> None:
    world = pushed.world
    settings = world.app.state.settings
    assert settings.secret_keys == []
    assert settings.embedded_scheduler
    world.app.state.scheduler = world.app.state.kicker = app_own.scheduler
    world.app.state.channels = app_own.channels
    row = await app_own.channels.open(world.connection_id)
    assert row is not None
    assert (settings.data_dir / KEY_FILE_NAME).exists()
    await pushed.flush()
    start = datetime.now(UTC) + timedelta(days=3)
    world.remote.insert("Hearing prep from the calendar", start, start + timedelta(hours=1))
    await pushed.flush()
    async with asyncio.timeout(15):
        while True:
            titles = {a["title"] for a in await world.appointments()}
            if "Hearing prep from the calendar" in titles:
                break
            await asyncio.sleep(0.05)
        await app_own.scheduler.drain()
    assert _notifications(pushed, "accepted") == 1
    assert _notifications(pushed, "forged") == 0
    (channel,) = await pushed.live()
    assert channel.last_valid_at is not None
    assert channel.last_refused_at is None
    assert app_own.scheduler.stats.passes >= 1
    assert await pushed.requested() is None
