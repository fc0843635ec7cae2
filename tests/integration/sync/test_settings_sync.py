"""Settings an admin or a user sets take effect in the next pass, against each emulated
provider: a kind switched off leaves the calendar (through the mass-delete guard) and stays
off, switched on again it comes back; reminders, busy/free and privacy reach the wire and
re-push what is already there; a team's lock wins over the user's own value; a low guard
percent holds the removal back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sync_world import World

from casecal.store.tables import ConnectionStatus

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
API = "/api/v1/settings"


async def _court_date(world: World, hearing: str, days: int = 0) -> dict[str, Any]:
    start = SOON + timedelta(days=days)
    body = {"case_id": world.case_id, "hearing_type": hearing, "start_at": start.isoformat(),
            "time_zone": "America/New_York"}  # fmt: skip
    result: dict[str, Any] = await world.post("/court-dates", body)
    return result


async def _set(world: World, key: str, value: Any, *, admin: bool = False, **where: Any) -> None:
    headers = world.admin if admin else world.manager
    put = await world.api.put(f"{API}/{key}", json={"value": value, **where}, headers=headers)
    assert put.status_code == 200, put.text


def _court_titles(world: World) -> list[str]:
    return [t for t in world.titles() if t.startswith("Court:")]


def _wire(world: World) -> dict[str, Any]:
    """The one court date event as the provider stores it."""
    [item] = [i for i in world.remote.items() if i.title.startswith("Court:")]
    return world.remote.raw(item.id)


def _look(world: World) -> tuple[list[int], str, str]:
    """(reminder minutes, busy/free, visibility) as written on the wire."""
    raw = _wire(world)
    if world.remote.name == "google":
        reminders = raw["reminders"]
        assert reminders["useDefault"] is False
        minutes = [r["minutes"] for r in reminders.get("overrides", [])]
        free = raw.get("transparency") == "transparent"
        return minutes, "free" if free else "busy", raw.get("visibility", "default")
    minutes = [raw["reminderMinutesBeforeStart"]] if raw["isReminderOn"] else []
    return minutes, raw["showAs"], raw["sensitivity"]


async def test_court_dates_switched_off_leave_the_calendar_and_come_back_when_on(
    world: World,
) -> None:
    await _court_date(world, "Master Calendar Hearing")
    await world.post("/appointments", {"title": "Client meeting", "start_at": SOON.isoformat(),
                                       "end_at": (SOON + timedelta(hours=1)).isoformat(),
                                       "time_zone": "UTC"})  # fmt: skip
    assert (await world.sync()).outcome == "ok"
    assert len(_court_titles(world)) == 1

    scheduler = world.app.state.scheduler
    kicks = scheduler.stats.kicks
    await _set(world, "sync.court_date", "off", admin=True, level="firm")
    await world.app.state.outbox_trigger.settle()
    assert scheduler.stats.kicks == kicks + 1  # the connection's pass is asked for at once

    off = await world.sync()
    assert off.outcome == "ok", off.error
    assert off.counts["out"] == {"court_date.delete": 1}, off.counts
    assert _court_titles(world) == []
    assert "Client meeting" in world.titles()  # appointments are not affected
    await _court_date(world, "Individual Hearing", days=1)
    later = await world.sync()
    assert later.counts["out"] == {}, later.counts
    assert _court_titles(world) == []

    cleared = await world.api.delete(f"{API}/sync.court_date", params={"level": "firm"},
                                     headers=world.admin)  # fmt: skip
    assert cleared.status_code == 204, cleared.text
    back = await world.sync()
    assert back.outcome == "ok", back.error
    assert len(_court_titles(world)) == 2
    assert (await world.sync()).counts["out"] == {}


async def test_reminders_show_as_and_privacy_reach_the_wire_and_a_team_lock_wins(
    world: World,
) -> None:
    await _court_date(world, "Master Calendar Hearing")
    assert (await world.sync()).outcome == "ok"
    minutes, show_as, _ = _look(world)
    assert (minutes[0], show_as) == (24 * 60, "busy")  # the defaults: today's behaviour

    await _set(world, "reminders.court_date", [30])
    await _set(world, "show_as.court_date", "free")
    await _set(world, "visibility.court_date", "private")
    again = await world.sync()
    assert again.counts["out"] == {"court_date.update": 1}, again.counts
    assert _look(world) == ([30], "free", "private")
    assert (await world.sync()).counts["out"] == {}  # settled: no echo, no second push

    team = await world.api.post("/api/v1/teams", json={"name": "Detained"}, headers=world.admin)
    assert team.status_code == 201, team.text
    moved = await world.api.patch(
        f"/api/v1/users/{world.user_id}", json={"team_id": team.json()["id"]}, headers=world.admin
    )
    assert moved.status_code == 200, moved.text
    await _set(world, "reminders.court_date", [10], admin=True, level="team",
               team_id=team.json()["id"], locked=True)  # fmt: skip
    locked = await world.sync()
    assert locked.counts["out"] == {"court_date.update": 1}, locked.counts
    assert _look(world)[0] == [10]  # the team's lock wins over the user's own [30]


async def test_a_low_guard_percent_holds_back_the_removal_of_a_kind_switched_off(
    world: World,
) -> None:
    for day in range(3):
        await _court_date(world, f"Hearing {day}", days=day)
    assert (await world.sync()).outcome == "ok"
    await _set(world, "guard.percent", 10, admin=True, level="firm")
    await _set(world, "guard.minimum", 2, admin=True, level="firm")
    await _set(world, "sync.court_date", "off", admin=True, level="firm")
    held = await world.sync()
    assert held.outcome == "paused", held
    assert held.counts["guard"] == {"deletions": 3, "linked": 3}, held.counts
    assert len(_court_titles(world)) == 3  # nothing deleted
    assert (await world.connection()).status is ConnectionStatus.PAUSED_DELETIONS


async def test_a_firm_lock_keeps_court_dates_off_though_the_user_set_them_on(
    world: World,
) -> None:
    await _court_date(world, "Master Calendar Hearing")
    await _set(world, "sync.court_date", "on")  # the case manager's own value
    assert (await world.sync()).outcome == "ok"
    assert len(_court_titles(world)) == 1

    await _set(world, "sync.court_date", "off", admin=True, level="firm", locked=True)
    off = await world.sync()
    assert off.counts["out"] == {"court_date.delete": 1}, off.counts
    assert _court_titles(world) == []
    again = await world.api.put(f"{API}/sync.court_date", json={"value": "on"},
                                headers=world.manager)  # fmt: skip
    assert again.status_code == 403, again.text
    assert "firm" in again.json()["detail"]
    await _court_date(world, "Individual Hearing", days=1)
    assert (await world.sync()).counts["out"] == {}
    assert _court_titles(world) == []
