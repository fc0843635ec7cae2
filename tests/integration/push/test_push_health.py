"""Channel health made real: a channel whose deliveries are refused, or that stayed silent while
the remote calendar changed, no longer counts as healthy, so its connection polls; a valid
notification makes it healthy again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from push_support import Pushed

from casecal.store.tables import utcnow
from casecal.sync import triggers
from casecal.sync.channel_health import SilenceJudge


async def _polls(p: Pushed) -> bool:
    """Whether the sweep would start a pass when nothing but the poll could call for one."""
    await p.world.update_connection(next_poll_at=utcnow() - timedelta(minutes=1),
                                    sync_requested_at=None)  # fmt: skip
    async with p.world.app.state.sessionmaker() as session:
        due = await triggers.due_connections(session, utcnow())
    return p.world.connection_id in {d.connection_id for d in due}


async def _forge(p: Pushed, channel_id: str, resource_id: str) -> int:
    if p.world.remote.name == "google":
        response = await p.world.api.post(
            "/webhooks/google",
            headers={
                "X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": "forged",
                "X-Goog-Resource-ID": resource_id, "X-Goog-Resource-State": "exists",
                "X-Goog-Message-Number": "99",
            },
        )  # fmt: skip
    else:
        item = {"subscriptionId": channel_id, "clientState": "forged", "changeType": "updated"}
        response = await p.world.api.post("/webhooks/microsoft", json={"value": [item]})
    return response.status_code


async def test_refused_deliveries_make_the_connection_poll_until_a_valid_one(
    pushed: Pushed,
) -> None:
    row = await pushed.channels.open(pushed.world.connection_id)
    assert row is not None
    await pushed.flush()
    assert not await _polls(pushed)  # a healthy channel: no poll
    assert await _forge(pushed, row.channel_id, row.resource_id or "") in (401, 403)
    assert await _polls(pushed)
    start = datetime.now(UTC) + timedelta(days=1)
    pushed.world.remote.insert("Announced", start, start + timedelta(hours=1))
    await pushed.flush()  # a valid notification: the channel works again
    assert not await _polls(pushed)


@pytest.mark.parametrize("announced", [True, False], ids=["announced", "silent"])
async def test_a_channel_silent_while_the_remote_changed_makes_the_connection_poll(
    pushed: Pushed, announced: bool
) -> None:
    world = pushed.world
    assert await pushed.channels.open(world.connection_id) is not None
    await pushed.flush()
    assert (await world.sync()).outcome == "ok"
    start = datetime.now(UTC) + timedelta(days=1)
    world.remote.insert("Changed in the calendar", start, start + timedelta(hours=1))
    if announced:
        await pushed.flush()
    else:  # the provider never delivers it (an unreachable URL, a dropped subscription)
        pushed.emu.notifier.pending.clear()
    report = await world.sync()  # e.g. Sync now, or a pass for a change made in CaseCal
    assert report.counts["in"]
    judge = SilenceJudge(
        world.app.state.sessionmaker, clock=lambda: utcnow() + timedelta(minutes=3)
    )
    assert await judge.judge() == (0 if announced else 1)
    assert await _polls(pushed) is not announced
    assert await judge.judge() == 0  # judged once
