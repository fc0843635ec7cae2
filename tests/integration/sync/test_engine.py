"""The sync engine against each emulated provider: both directions, no echo, no duplicates,
direction rules, conflicts, cursor expiry and the mass-delete guard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sync_world import World

from casecal.store.tables import ConnectionStatus, OutboxRow, SyncCursor
from casecal.sync.engine import SyncEngine

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
COURT_TITLE = "Court: Master Calendar Hearing - Ana Gutierrez (C-1)"


def _at(hours: float = 0) -> datetime:
    return SOON + timedelta(hours=hours)


async def _court_date(world: World) -> dict[str, Any]:
    body = {"case_id": world.case_id, "hearing_type": "Master Calendar Hearing",
            "court_name": "NY Immigration Court", "judge": "Hon. Whitfield",
            "start_at": _at().isoformat(), "time_zone": "America/New_York"}  # fmt: skip
    result: dict[str, Any] = await world.post("/court-dates", body)
    return result


async def _appointment(world: World, title: str = "Client meeting") -> dict[str, Any]:
    body = {"title": title, "start_at": _at(1).isoformat(), "end_at": _at(2).isoformat(),
            "time_zone": "America/New_York"}  # fmt: skip
    result: dict[str, Any] = await world.post("/appointments", body)
    return result


async def test_court_date_goes_out_once_and_a_noop_pass_is_one_request(world: World) -> None:
    court = await _court_date(world)
    first = await world.sync()
    assert first.outcome == "ok", first.error
    assert world.titles() == [COURT_TITLE]
    [link] = await world.links()
    assert str(link.entry_id) == court["id"]
    # The pass after sees its own write come back through the feed: nothing to do.
    echo = await world.sync()
    assert echo.counts["out"] == {}, echo.counts
    world.remote.log.clear()
    idle = await world.sync()
    assert idle.outcome == "ok"
    assert [e.method for e in world.remote.log.entries] == ["GET"], world.remote.log.entries
    assert world.titles() == [COURT_TITLE]


async def test_a_large_push_goes_out_in_batches(world: World) -> None:
    """Sixty new entries leave in the provider's batches (Google: 50 a batch, Graph: 20 a
    `$batch`), not one request each; every entry arrives once and is linked."""
    for n in range(60):
        await _appointment(world, f"Meeting {n:02}")
    world.remote.log.clear()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["out"] == {"appointment.create": 60}, report.counts
    google = world.remote.name == "google"
    envelope = "/batch/" if google else "$batch"
    assert world.remote.log.count("POST", envelope) == (2 if google else 3)
    # Google's log also lists each part of a batch; Graph's lists only the envelope.
    parts = world.remote.log.count("POST", "/events")
    assert parts == (60 if google else 0), world.remote.log.entries
    assert sorted(world.titles()) == [f"Meeting {n:02}" for n in range(60)]
    assert len(await world.links()) == 60
    echo = await world.sync()
    assert echo.counts["out"] == {}, echo.counts


async def test_an_occurrence_cancelled_remotely_becomes_an_exdate_once(world: World) -> None:
    """A weekly series comes in; then one occurrence is cancelled in the calendar app. Google
    says so with a cancelled instance, Graph only by leaving it out of the series' listing:
    either way the host series gains that EXDATE, and nothing is written back."""
    series = world.remote.insert_weekly("Stand-up", _at(), _at(1), 4)
    first = await world.sync()
    assert first.outcome == "ok", first.error
    third = _at().astimezone(ZoneInfo("America/New_York")) + timedelta(weeks=2)
    world.remote.cancel_occurrence(series, third)
    world.remote.log.clear()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["in"].get("appointment.occurrence_cancelled") == 1, report.counts
    assert report.counts["out"] == {}, report.counts
    [appointment] = await world.appointments()
    assert [datetime.fromisoformat(x) for x in appointment["exdates"]] == [third]
    writes = [e for e in world.remote.log.entries if e.method != "GET"]
    assert writes == [], writes
    again = await world.sync()
    assert again.counts == {"in": {}, "out": {}}, again.counts


async def test_an_event_moved_out_of_the_window_is_moved_not_deleted(world: World) -> None:
    """Someone moves an appointment two years ahead, past the end of the sync window. Graph's
    delta reports it as removed (it left the window); the adapter reads it back and finds it,
    so CaseCal moves the appointment instead of deleting it."""
    appointment = await _appointment(world, "Moved far ahead")
    await world.sync()
    [link] = await world.links()
    later = _at() + timedelta(days=730)
    world.remote.move(link.remote_id, later, later + timedelta(hours=1))
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert "appointment.delete" not in report.counts["in"], report.counts
    [moved] = await world.appointments()
    assert moved["id"] == appointment["id"]
    assert datetime.fromisoformat(moved["start_at"]) == later


async def test_foreign_remote_event_becomes_an_appointment(world: World) -> None:
    world.remote.insert("Lunch with co-counsel", _at(5), _at(6))
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert [a["title"] for a in await world.appointments()] == ["Lunch with co-counsel"]
    await world.sync()
    assert len(await world.appointments()) == 1
    assert world.titles() == ["Lunch with co-counsel"]


async def test_private_foreign_event_comes_in_with_times_only(world: World) -> None:
    world.remote.insert("Doctor", _at(5), _at(6), private=True)
    await world.sync()
    [appointment] = await world.appointments()
    assert appointment["title"] == "Private appointment"
    assert appointment["notes"] == ""
    assert appointment["private"] is True


async def test_remote_edit_of_court_date_is_overwritten_and_delete_restored(world: World) -> None:
    await _court_date(world)
    await world.sync()
    [event] = world.remote.items()
    world.remote.retitle(event.id, "edited in the calendar app")
    report = await world.sync()
    assert report.counts["out"].get("court_date.restore") == 1, report.counts
    assert world.titles() == [COURT_TITLE]
    world.remote.delete(event.id)
    report = await world.sync()
    assert report.counts["out"].get("court_date.restore") == 1, report.counts
    assert world.titles() == [COURT_TITLE]


async def test_host_update_and_delete_reach_the_remote(world: World) -> None:
    appointment = await _appointment(world)
    await world.sync()
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Moved meeting"})
    await world.sync()
    assert world.titles() == ["Moved meeting"]
    await world.delete(f"/appointments/{appointment['id']}")
    await world.sync()
    assert world.titles() == []


async def test_remote_edit_and_delete_of_appointment_come_back(world: World) -> None:
    await _appointment(world)
    await world.sync()
    [event] = world.remote.items()
    world.remote.retitle(event.id, "Renamed in the calendar app")
    await world.sync()
    assert [a["title"] for a in await world.appointments()] == ["Renamed in the calendar app"]
    world.remote.delete(event.id)
    await world.sync()
    assert await world.appointments() == []


async def test_both_sides_changed_keeps_both_versions(world: World) -> None:
    appointment = await _appointment(world)
    await world.sync()
    [event] = world.remote.items()
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Host title"})
    world.remote.retitle(event.id, "Remote title")
    await world.sync()
    [conflict] = await world.conflicts()
    titles = {conflict.winner_snapshot["title"], conflict.loser_snapshot["title"]}
    assert titles == {"Host title", "Remote title"}
    winner = conflict.winner_snapshot["title"]
    await world.sync()
    assert [a["title"] for a in await world.appointments()] == [winner]
    assert world.titles() == [winner]


async def test_lost_link_after_create_does_not_duplicate(world: World) -> None:
    """Crash between the remote create and the link save: the rerun reuses the event."""
    await _court_date(world)
    await world.sync()
    await world.simulate_crash_before_link_save()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == [COURT_TITLE]
    assert len(await world.links()) == 1


async def test_lost_link_then_a_host_edit_reaches_the_remote(world: World) -> None:
    """Crash between the create and the link save, then the user edits the entry: the rerun's
    create finds the earlier event (same idempotency key) holding the old title, and the edit
    still goes out, with the old version kept as a conflict record (found by the state
    machine: the link used to be saved as if both sides agreed)."""
    appointment = await _appointment(world, "Alpha")
    await world.sync()
    await world.simulate_crash_before_link_save()
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Charlie"})
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == ["Charlie"]
    assert [a["title"] for a in await world.appointments()] == ["Charlie"]
    assert len(await world.links()) == 1
    assert [c.loser_snapshot["title"] for c in await world.conflicts()] == ["Alpha"]
    settled = await world.sync()
    assert settled.counts.get("out", {}) == {}, settled.counts


async def test_lost_link_then_a_remote_edit_of_a_court_date_is_overwritten(world: World) -> None:
    """Crash before the link save, then someone edits the court date in their calendar: the
    host is authoritative, so the rerun overwrites the edit instead of adopting it."""
    await _court_date(world)
    await world.sync()
    await world.simulate_crash_before_link_save()
    (item,) = world.remote.items()
    world.remote.retitle(item.id, "Edited in the calendar")
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == [COURT_TITLE]
    assert len(await world.links()) == 1


async def test_cursor_expiry_and_version_bump_resync_without_duplicates(world: World) -> None:
    await _court_date(world)
    await _appointment(world)
    world.remote.insert("Remote one", _at(9), _at(10))
    await world.sync()
    before_remote, before_host = world.titles(), len(await world.appointments())
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    async with world.app.state.sessionmaker() as session, session.begin():
        cursor = await session.get(SyncCursor, world.connection_id)
        assert cursor is not None
        cursor.version += 1
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == before_remote
    assert len(before_remote) == 3
    assert len(await world.appointments()) == before_host == 2


async def test_mass_remote_delete_pauses_until_confirmed(world: World) -> None:
    for n in range(30):
        await _appointment(world, title=f"Meeting {n}")
    await world.sync()
    assert len(world.titles()) == 30
    for event in world.remote.items():
        world.remote.delete(event.id)
    report = await world.sync()
    assert report.outcome == "paused", report
    assert (await world.connection()).status is ConnectionStatus.PAUSED_DELETIONS
    assert len(await world.appointments()) == 30  # nothing deleted
    await world.update_connection(status=ConnectionStatus.ACTIVE, confirmed_deletions=30)
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert await world.appointments() == []


async def test_host_edits_and_deletions_go_out_in_one_batch(world: World) -> None:
    """After 3 edits and 3 deletions on the host, the next pass writes all six in one batch
    request (the deletions no longer wait for a batch of their own)."""
    made = [await _appointment(world, f"Meeting {n}") for n in range(10)]
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).counts["out"] == {}  # the echo of those creates, read
    for item in made[:3]:
        await world.patch(f"/appointments/{item['id']}", {"title": item["title"] + " (moved)"})
    for item in made[3:6]:
        await world.delete(f"/appointments/{item['id']}")
    world.remote.log.clear()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["out"] == {"appointment.update": 3, "appointment.delete": 3}
    writes = [e for e in world.remote.log.entries if e.method != "GET"]
    envelope = "/batch/" if world.remote.name == "google" else "$batch"
    assert world.remote.log.count("POST", envelope) == 1, writes
    assert sorted(world.titles()) == sorted(
        [f"Meeting {n} (moved)" for n in range(3)] + [f"Meeting {n}" for n in range(6, 10)]
    )


async def test_host_mass_deletion_waits_but_edits_still_go_out(world: World) -> None:
    """The host deletes 26 of 30 linked appointments and edits another: the guard holds the
    deletions for a confirmation, and the edit goes out all the same."""
    made = [await _appointment(world, f"Meeting {n}") for n in range(30)]
    assert (await world.sync()).outcome == "ok"
    for item in made[:26]:
        await world.delete(f"/appointments/{item['id']}")
    await world.patch(f"/appointments/{made[29]['id']}", {"title": "Meeting 29 (moved)"})
    report = await world.sync()
    assert report.outcome == "paused", report
    assert len(world.titles()) == 30
    assert "Meeting 29 (moved)" in world.titles()
    await world.update_connection(status=ConnectionStatus.ACTIVE, confirmed_deletions=26)
    assert (await world.sync()).outcome == "ok"
    assert sorted(world.titles()) == ["Meeting 26", "Meeting 27", "Meeting 28",
                                      "Meeting 29 (moved)"]  # fmt: skip


async def test_empty_full_listing_deletes_nothing(world: World) -> None:
    for n in range(3):
        await _appointment(world, title=f"Meeting {n}")
    await world.sync()
    for event in world.remote.items():
        world.remote.delete(event.id)
    world.remote.forget_deleted()
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "paused"
    assert "empty" in report.error
    assert len(await world.appointments()) == 3


async def test_two_passes_of_one_connection_never_overlap(world: World) -> None:
    """Whoever starts them, a second pass waits for the lock or answers busy."""
    for n in range(5):
        await _appointment(world, title=f"Meeting {n}")
    first, second = await asyncio.gather(world.sync(), world.sync())
    assert sorted([first.outcome, second.outcome]) == ["busy", "ok"]
    waited = await asyncio.gather(
        world.engine.run_pass(world.firm_id, world.connection_id, wait=30),
        world.engine.run_pass(world.firm_id, world.connection_id, wait=30),
    )
    assert [r.outcome for r in waited] == ["ok", "ok"]
    assert len(world.titles()) == 5


async def test_tagged_orphan_after_a_lost_link_is_deleted_not_a_crash(world: World) -> None:
    """Crash before the link save, then the entry is deleted in CaseCal: the next full listing
    finds our tagged event with neither link nor entry, and removes it."""
    appointment = await _appointment(world, "Short-lived")
    await world.sync()
    await world.simulate_crash_before_link_save()
    await world.delete(f"/appointments/{appointment['id']}")
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert world.titles() == []
    assert (await world.sync()).outcome == "ok"


async def test_an_edit_saved_during_a_pass_is_pushed_by_the_next(world: World) -> None:
    """The outbox row of an edit made while the pass was writing stays pending (only the
    versions the pass acted on are acknowledged), so the next pass carries it."""
    appointment = await _appointment(world, "First title")
    provider = await world.engine.provider_for(await world.connection())

    class EditsWhileCreating:
        """The real adapter; the user saves a new title while the create is in flight."""

        def __init__(self) -> None:
            self.capabilities = provider.capabilities

        def __getattr__(self, name: str) -> Any:
            return getattr(provider, name)

        async def create_event(self, *args: Any, **kwargs: Any) -> Any:
            await world.patch(f"/appointments/{appointment['id']}", {"title": "Second title"})
            return await provider.create_event(*args, **kwargs)

    async def racing(_connection: Any) -> Any:
        return EditsWhileCreating()

    racy = SyncEngine(world.app.state.sessionmaker, racing, base_url="http://testserver")
    assert (await racy.run_pass(world.firm_id, world.connection_id)).outcome == "ok"
    assert world.titles() == ["First title"]
    async with world.app.state.sessionmaker() as session:
        pending = (
            await session.scalars(select(OutboxRow.entry_version).where(
                OutboxRow.processed_at.is_(None)))
        ).all()  # fmt: skip
    assert list(pending) == [2]  # the newer edit's row was not acknowledged
    await world.sync()
    assert world.titles() == ["Second title"]
