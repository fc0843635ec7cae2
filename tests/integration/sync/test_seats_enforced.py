"""Seats and the subscription are enforced after connect: a removed seat or a cancelled
subscription pauses syncing at once (channels stopped, nothing deleted remotely), and the seat
or subscription coming back resumes it from its cursor with a pass kicked; every change is in
the audit log; and the engine itself refuses a pass without a seat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sync_world import World

from casecal.store.tables import AuditEvent, ProviderName, PushChannelRow, Seat, SyncCursor

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


class Recorder:
    """Stands in for the channel manager and the kicker, to see what a change set off."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, uuid.UUID]] = []

    async def open(self, connection_id: uuid.UUID) -> None:
        self.calls.append(("open", connection_id))

    async def close(self, connection_id: uuid.UUID) -> int:
        self.calls.append(("close", connection_id))
        return 1

    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None:
        self.calls.append((f"kick:{trigger}", connection_id))


async def _call(world: World, method: str, path: str, body: Any = None) -> Any:
    response = await world.api.request(method, f"/api/v1{path}", json=body, headers=world.admin)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _subscribe(world: World) -> None:
    await _call(world, "POST", "/subscription")
    await _call(world, "POST", "/subscription/activate")
    await _call(world, "POST", "/subscription/seats", {"user_id": str(world.user_id)})


async def _appointment(world: World, title: str) -> None:
    body = {"title": title, "start_at": SOON.isoformat(),
            "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "UTC"}  # fmt: skip
    await world.post("/appointments", body)


async def _status(world: World) -> dict[str, Any]:
    response = await world.api.get(
        f"/api/v1/connections/{world.connection_id}", headers=world.manager
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _settle(world: World) -> None:
    await world.app.state.entitlement_effects.settle()


async def _actions(world: World) -> list[str]:
    async with world.app.state.sessionmaker() as session:
        rows = await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [row.action for row in rows]


async def test_a_removed_seat_stops_sync_and_its_return_resumes_it(world: World) -> None:
    await _subscribe(world)  # the world's connection predates it: paused, then resumed
    await _settle(world)
    audited = len(await _actions(world))
    recorder = Recorder()
    effects = world.app.state.entitlement_effects
    effects.channels = effects.kicker = recorder
    await _appointment(world, "Before")
    assert (await world.sync()).outcome == "ok"
    assert world.titles() == ["Before"]
    async with world.app.state.sessionmaker() as session:
        cursor = await session.get(SyncCursor, world.connection_id)
        assert cursor is not None
        saved = cursor.cursor

    await _call(world, "DELETE", f"/subscription/seats/{world.user_id}")
    await _settle(world)
    paused = await _status(world)
    assert paused["status"] == "paused_no_seat"
    assert "seat was removed" in paused["status_reason"]
    assert "Nothing was deleted" in paused["status_reason"]
    assert recorder.calls == [("close", world.connection_id)]
    await _appointment(world, "While paused")
    assert (await world.sync()).outcome == "skipped:paused_no_seat"
    assert world.titles() == ["Before"]  # nothing new pushed, nothing deleted

    await _call(world, "POST", "/subscription/seats", {"user_id": str(world.user_id)})
    await _settle(world)
    resumed = await _status(world)
    assert (resumed["status"], resumed["status_reason"]) == ("active", "")
    assert recorder.calls[1:] == [
        ("open", world.connection_id), ("kick:resumed", world.connection_id)
    ]  # fmt: skip
    async with world.app.state.sessionmaker() as session:
        cursor = await session.get(SyncCursor, world.connection_id)
        assert cursor is not None
        assert cursor.cursor == saved  # resumes from where it stopped
    assert (await world.sync()).outcome == "ok"
    assert world.titles() == ["Before", "While paused"]
    actions = (await _actions(world))[audited:]
    assert actions == [
        "seat.removed", "connection.paused", "seat.added", "connection.resumed"
    ]  # fmt: skip


async def test_a_cancelled_subscription_stops_sync_until_it_is_active_again(world: World) -> None:
    await _subscribe(world)
    assert (await world.sync()).outcome == "ok"
    async with world.app.state.sessionmaker() as session, session.begin():
        session.add(
            PushChannelRow(
                firm_id=world.firm_id, connection_id=world.connection_id,
                provider=ProviderName.GOOGLE, channel_id="live", resource_id="res",
                secret_digest="0" * 64, expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )  # fmt: skip
    cancelled = await _call(world, "POST", "/subscription/cancel")
    await _settle(world)
    assert cancelled["cancelled_at"] is not None
    paused = await _status(world)
    assert paused["status"] == "paused_subscription"
    assert "subscription is not active" in paused["status_reason"]
    async with world.app.state.sessionmaker() as session:
        channel = await session.scalar(select(PushChannelRow))
        assert channel is not None
        assert channel.stopped_at is not None  # the real channel manager stopped it
    await _appointment(world, "While cancelled")
    assert (await world.sync()).outcome == "skipped:paused_subscription"
    assert world.titles() == []

    await _call(world, "POST", "/subscription")  # requested again: still not active
    assert (await _status(world))["status"] == "paused_subscription"
    await _call(world, "POST", "/subscription/activate")
    await _settle(world)
    assert (await _status(world))["status"] == "active"
    assert (await world.sync()).outcome == "ok"
    assert world.titles() == ["While cancelled"]
    actions = await _actions(world)
    wanted = ("subscription.requested", "subscription.activated", "subscription.cancelled",
              "connection.paused", "connection.resumed")  # fmt: skip
    assert set(wanted) <= set(actions)


async def test_the_engine_refuses_a_pass_without_a_seat(world: World) -> None:
    """Defence in depth: a seat gone behind the services' back still stops the pass."""
    await _subscribe(world)
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(delete(Seat))
    await _appointment(world, "Not without a seat")
    report = await world.sync()
    assert report.outcome == "skipped:paused_no_seat"
    assert world.titles() == []
    assert (await _status(world))["status"] == "paused_no_seat"


async def test_a_paused_connection_shows_in_the_connection_list(world: World) -> None:
    await _subscribe(world)
    await _call(world, "DELETE", f"/subscription/seats/{world.user_id}")
    listed = await world.api.get("/api/v1/connections", headers=world.admin)
    [row] = listed.json()["items"]
    assert row["status"] == "paused_no_seat"
    assert row["status_reason"].startswith("Paused: your Calendar Sync seat was removed")


async def _cleanup(world: World, headers: dict[str, str] | None = None) -> Any:
    url = f"/api/v1/connections/{world.connection_id}/cleanup"
    return await world.api.post(url, headers=headers or world.admin)


async def test_cleanup_removes_only_what_casecal_created(world: World) -> None:
    world.app.state.sync_engine = world.engine
    await _subscribe(world)
    await _appointment(world, "Made in CaseCal")
    body = {"case_id": world.case_id, "hearing_type": "Master", "start_at": SOON.isoformat()}
    await world.post("/court-dates", body)
    world.remote.insert("Dentist", SOON + timedelta(hours=3), SOON + timedelta(hours=4))
    assert (await world.sync()).outcome == "ok"
    assert len(world.titles()) == 3
    assert (await _cleanup(world)).status_code == 409  # still active: nothing to clean up
    await _call(world, "DELETE", f"/subscription/seats/{world.user_id}")
    assert world.titles() != ["Dentist"]  # pausing deletes nothing

    assert (await _cleanup(world, world.manager)).status_code == 403  # the firm asks
    done = await _cleanup(world)
    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "ok"
    assert done.json()["counts"]["out"] == {"deleted": 2}
    assert world.titles() == ["Dentist"]
    after = await _status(world)
    assert (after["status"], after["cleanup_requested_at"]) == ("paused_no_seat", None)
    hosted = sorted(a["title"] for a in await world.appointments())
    assert hosted == ["Dentist", "Made in CaseCal"]  # nothing deleted in CaseCal
    assert {"connection.cleanup_requested", "connection.cleaned_up"} <= set(await _actions(world))

    await _call(world, "POST", "/subscription/seats", {"user_id": str(world.user_id)})
    assert (await world.sync()).outcome == "ok"
    assert len(world.titles()) == 3  # resumed: pushed again, once each


async def test_a_large_cleanup_waits_for_confirmation(world: World) -> None:
    world.app.state.sync_engine = world.engine
    await _subscribe(world)
    for n in range(26):
        await _appointment(world, f"Meeting {n}")
    assert (await world.sync()).outcome == "ok"
    await _call(world, "DELETE", f"/subscription/seats/{world.user_id}")
    held = (await _cleanup(world)).json()
    assert held["outcome"] == "paused"
    assert held["counts"]["guard"] == {"deletions": 26, "linked": 26}
    assert len(world.titles()) == 26
    url = f"/api/v1/connections/{world.connection_id}/confirm-deletions"
    confirmed = await world.api.post(url, headers=world.admin)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "paused_no_seat"  # confirming resumes nothing
    done = (await _cleanup(world)).json()
    assert done["outcome"] == "ok"
    assert world.titles() == []
