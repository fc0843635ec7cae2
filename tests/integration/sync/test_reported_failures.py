"""One scenario per failure mode that users keep reporting against other sync tools
(docs/design/providers.md), named after it, against both emulated providers. Each fails if
the protection it names is removed. (CalDAV-only modes 2, 4 and 14: the CalDAV tests.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sync_world import World

from casecal.emulators.faults import Fault

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


async def _appointment(world: World, title: str, **extra: Any) -> dict[str, Any]:
    body = {"title": title, "start_at": SOON.isoformat(),
            "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "UTC",
            **extra}  # fmt: skip
    result: dict[str, Any] = await world.post("/appointments", body)
    return result


def _writes(world: World) -> list[str]:
    return [f"{e.method} {e.path}" for e in world.remote.log.entries if e.method != "GET"]


async def test_1_duplicates_created_on_every_sync(world: World) -> None:
    """The id mapping is lost and the next listing re-creates everything (OGCS #1512/#1965):
    our tag on the remote event relinks it, so nothing is created twice."""
    for n in range(3):
        await _appointment(world, f"Meeting {n}")
    await world.sync()
    await world.simulate_crash_before_link_save()
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == ["Meeting 0", "Meeting 1", "Meeting 2"]
    assert len(await world.appointments()) == 3
    assert len(await world.links()) == 3


async def test_3_recurring_events_duplicated(world: World) -> None:
    """A remote weekly series comes in as ONE recurring appointment, and stays one."""
    world.remote.insert_weekly("Weekly stand-up", SOON, SOON + timedelta(minutes=30), 6)
    await world.sync()
    await world.sync()
    appointments = await world.appointments()
    assert [a["title"] for a in appointments] == ["Weekly stand-up"]
    assert appointments[0]["rrule"] is not None
    assert "FREQ=WEEKLY" in appointments[0]["rrule"]
    assert world.titles() == ["Weekly stand-up"]


async def test_5_mass_deletion_when_a_side_is_unavailable(world: World) -> None:
    """A failed listing (5xx) is not an empty calendar (OGCS #2022): nothing is deleted."""
    for n in range(3):
        await _appointment(world, f"Meeting {n}")
    await world.sync()
    world.remote.expire_cursor()
    world.remote.faults.add(
        Fault(kind="error", status=503, method="GET", path=world.remote.feed_path)
    )
    report = await world.sync()
    assert report.outcome == "failed"
    world.remote.faults.clear()
    assert len(await world.appointments()) == 3
    assert len(world.titles()) == 3
    assert (await world.sync()).outcome == "ok"
    assert len(await world.appointments()) == 3


async def test_6_deleted_events_come_back_or_need_two_syncs(world: World) -> None:
    """A deletion on either side takes one pass and is never undone by the next."""
    host_side = await _appointment(world, "Deleted in CaseCal")
    await _appointment(world, "Deleted remotely")
    await world.sync()
    await world.delete(f"/appointments/{host_side['id']}")
    [remote_side] = [i for i in world.remote.items() if i.title == "Deleted remotely"]
    world.remote.delete(remote_side.id)
    await world.sync()
    assert world.titles() == []
    assert await world.appointments() == []
    await world.sync()
    await world.sync()
    assert world.titles() == []
    assert await world.appointments() == []


async def test_7_echo_and_rewrite_storms(world: World) -> None:
    """Unchanged items are never rewritten: after convergence a pass writes nothing."""
    for n in range(5):
        await _appointment(world, f"Meeting {n}")
    world.remote.insert("Remote one", SOON, SOON + timedelta(hours=1))
    await world.sync()
    await world.sync()
    world.remote.log.clear()
    for _ in range(3):
        await world.sync()
    assert _writes(world) == []


async def test_8_infinite_412_loop(world: World) -> None:
    """A stale etag after a concurrent remote edit ends in one conflict and convergence, not a
    loop of 412s (chroncal #68)."""
    appointment = await _appointment(world, "Original")
    await world.sync()
    [event] = world.remote.items()
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Host edit"})
    world.remote.retitle(event.id, "Remote edit")
    for _ in range(3):
        await world.sync()
    failed = [e for e in world.remote.log.entries if e.status == 412]
    assert len(failed) <= 1
    titles = world.titles()
    assert len(titles) == 1
    assert [a["title"] for a in await world.appointments()] == titles
    assert len(await world.conflicts()) == 1


async def test_9_all_day_events_shifted_by_the_utc_offset(world: World) -> None:
    """All-day stays all-day on the same dates both ways (python-o365 #690)."""
    first = (SOON + timedelta(days=10)).date()
    await world.post("/appointments", {
        "title": "Out of office", "all_day": True, "start_date": first.isoformat(),
        "end_date": (first + timedelta(days=2)).isoformat(), "time_zone": "America/Los_Angeles",
    })  # fmt: skip
    world.remote.insert_all_day("Holiday", date(2027, 7, 5), date(2027, 7, 6))
    await world.sync()
    [out] = [i for i in world.remote.items() if i.title == "Out of office"]
    raw = world.remote.raw(out.id)
    if world.remote.name == "google":
        assert raw["start"] == {"date": first.isoformat()}
        assert raw["end"] == {"date": (first + timedelta(days=2)).isoformat()}
    else:
        assert raw["isAllDay"] is True
        assert raw["start"]["dateTime"].startswith(f"{first.isoformat()}T00:00:00")
    [holiday] = [a for a in await world.appointments() if a["title"] == "Holiday"]
    assert holiday["all_day"] is True
    assert (holiday["start_date"], holiday["end_date"]) == ("2027-07-05", "2027-07-06")


async def test_10_timed_events_shifted_by_one_hour_across_dst(world: World) -> None:
    """A 9:00 New York appointment on the day after DST starts is 13:00 UTC, not 14:00."""
    await world.post("/appointments", {
        "title": "After DST", "start_at": "2027-03-15T09:00:00", "end_at": "2027-03-15T10:00:00",
        "time_zone": "America/New_York",
    })  # fmt: skip
    await world.sync()
    [item] = world.remote.items()
    raw = world.remote.raw(item.id)
    if world.remote.name == "google":
        start = datetime.fromisoformat(raw["start"]["dateTime"])
        assert start.astimezone(UTC) == datetime(2027, 3, 15, 13, tzinfo=UTC)
        assert raw["start"]["timeZone"] == "America/New_York"
    else:
        assert raw["start"]["dateTime"].startswith("2027-03-15T13:00:00")  # UTC view
        assert raw["originalStartTimeZone"] == "Eastern Standard Time"
