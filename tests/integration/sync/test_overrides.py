"""Occurrences of a series changed on their own (moved, retitled), in both directions, against
each emulated provider: a remote change becomes an override of the host series once and writes
nothing back; a host override reaches the remote occurrence and its echo changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sm_views import remote_occurrences, set_occurrence_count
from sync_world import World

from casecal.emulators.faults import Fault

NEW_YORK = ZoneInfo("America/New_York")
SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
WINDOW = (SOON - timedelta(days=1), SOON + timedelta(days=60))


def _weekly(n: int) -> datetime:
    """The start of the ``n``-th (0-based) occurrence of a weekly series starting at SOON, at
    the same New York wall time."""
    return SOON.astimezone(NEW_YORK) + timedelta(weeks=n)


async def _remote_view(world: World) -> list[tuple[str, datetime]]:
    provider, http = await world.remote.provider("cm@sync.example")
    try:
        return sorted(await remote_occurrences(world.remote, provider, *WINDOW))
    finally:
        await http.aclose()


async def _writes(world: World) -> list[Any]:
    return [e for e in world.remote.log.entries if e.method != "GET"]


async def _host_series(world: World, title: str, **extra: Any) -> dict[str, Any]:
    """A weekly series of three made on the host, starting at SOON in New York."""
    body = {"title": title, "start_at": SOON.isoformat(),
            "end_at": (SOON + timedelta(hours=1)).isoformat(),
            "time_zone": "America/New_York", "rrule": "FREQ=WEEKLY;COUNT=3", **extra}  # fmt: skip
    made: dict[str, Any] = await world.post("/appointments", body)
    return made


async def test_an_occurrence_changed_remotely_becomes_an_override_once(world: World) -> None:
    series = world.remote.insert_weekly("Stand-up", SOON, SOON + timedelta(hours=1), 4)
    first = await world.sync()
    assert first.outcome == "ok", first.error
    moved = _weekly(2) + timedelta(hours=3)
    world.remote.change_occurrence(series, _weekly(2), "Stand-up (moved)", moved)
    world.remote.log.clear()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["in"] == {"appointment.occurrence_changed": 1}, report.counts
    assert report.counts["out"] == {}, report.counts
    assert await _writes(world) == []
    [appointment] = await world.appointments()
    [override] = appointment["overrides"]
    assert override["title"] == "Stand-up (moved)"
    assert datetime.fromisoformat(override["original_start"]) == _weekly(2)
    assert datetime.fromisoformat(override["start"]) == moved
    assert datetime.fromisoformat(override["end"]) == moved + timedelta(hours=1)
    again = await world.sync()
    assert again.counts == {"in": {}, "out": {}}, again.counts
    # The series itself edited remotely afterwards keeps the host's override.
    world.remote.retitle(series, "Team stand-up")
    await world.sync()
    [appointment] = await world.appointments()
    assert appointment["title"] == "Team stand-up"
    assert [o["title"] for o in appointment["overrides"]] == ["Stand-up (moved)"]
    assert (await world.sync()).counts["out"] == {}


async def test_an_occurrence_changed_on_the_host_reaches_the_remote(world: World) -> None:
    made = await _host_series(world, "Clinic")
    assert (await world.sync()).outcome == "ok"
    moved = _weekly(1) + timedelta(days=1)
    change = {"original_start": _weekly(1).isoformat(), "title": "Clinic (Thursday)",
              "start": moved.isoformat(), "end": (moved + timedelta(hours=2)).isoformat(),
              "location": "Room 4"}  # fmt: skip
    patched = await world.patch(f"/appointments/{made['id']}", {"overrides": [change]})
    assert [o["title"] for o in patched["overrides"]] == ["Clinic (Thursday)"]
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["out"] == {"appointment.update": 1}, report.counts
    assert await _remote_view(world) == [
        ("Clinic", _weekly(0).astimezone(UTC)),
        ("Clinic", _weekly(2).astimezone(UTC)),
        ("Clinic (Thursday)", moved.astimezone(UTC)),
    ]
    # Its echo changes nothing on either side, and then a pass is one request.
    echo = await world.sync()
    assert echo.counts["out"] == {}, echo.counts
    [appointment] = await world.appointments()
    assert appointment["version"] == patched["version"], "the echo rewrote the host entry"
    world.remote.log.clear()
    idle = await world.sync()
    assert idle.counts == {"in": {}, "out": {}}, idle.counts
    assert [e.method for e in world.remote.log.entries] == ["GET"], world.remote.log.entries


async def test_a_host_series_edit_keeps_its_changed_occurrence_on_the_remote(
    world: World,
) -> None:
    """Graph drops a series' exceptions whenever its recurrence is written again; the adapter
    writes them back after every write of the series, so a retitled series keeps its moved
    occurrence on both providers."""
    late = _weekly(2) + timedelta(hours=4)
    moved = {
        "original_start": _weekly(2).isoformat(),
        "title": "Prep (late)",
        "start": late.isoformat(),
        "end": (late + timedelta(hours=1)).isoformat(),
    }
    made = await _host_series(world, "Hearing prep", overrides=[moved])
    assert (await world.sync()).outcome == "ok"
    await world.patch(f"/appointments/{made['id']}", {"title": "Hearing preparation"})
    report = await world.sync()
    assert report.counts["out"] == {"appointment.update": 1}, report.counts
    assert await _remote_view(world) == [
        ("Hearing preparation", _weekly(0).astimezone(UTC)),
        ("Hearing preparation", _weekly(1).astimezone(UTC)),
        ("Prep (late)", (_weekly(2) + timedelta(hours=4)).astimezone(UTC)),
    ]
    assert (await world.sync()).counts["out"] == {}


async def test_a_host_series_edit_does_not_undo_an_unseen_remote_occurrence_change(
    world: World,
) -> None:
    """Found by the state machine on Graph: another client cancels one occurrence and moves
    another, the host retitles the series before the next pass, and the cursor has expired.
    The full listing's master is written back during the pull; that write must carry the
    remote's occurrence news (Graph rewrites the recurrence: it would bring the cancelled
    occurrence back and drop the moved one), and both sides end the same."""
    series = world.remote.insert_weekly("Case review", SOON, SOON + timedelta(hours=1), 4)
    assert (await world.sync()).outcome == "ok"
    [appointment] = await world.appointments()
    world.remote.cancel_occurrence(series, _weekly(1))
    moved = _weekly(2) + timedelta(hours=2)
    world.remote.change_occurrence(series, _weekly(2), "Case review (moved)", moved)
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Case review (all)"})
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert (await world.sync()).counts["out"] == {}
    expected = [
        ("Case review (all)", _weekly(0).astimezone(UTC)),
        ("Case review (all)", _weekly(3).astimezone(UTC)),
        ("Case review (moved)", moved.astimezone(UTC)),
    ]
    assert await _remote_view(world) == expected
    [appointment] = await world.appointments()
    assert [datetime.fromisoformat(x) for x in appointment["exdates"]] == [_weekly(1)]
    assert [o["title"] for o in appointment["overrides"]] == ["Case review (moved)"]


async def test_a_host_cancellation_survives_a_conflict_the_remote_wins(world: World) -> None:
    """The host cancels an occurrence of a series while someone retitles the series in the
    calendar app, later: both changed, the newer (remote) edit wins and the host's version is
    kept as a conflict record. The host keeps its cancellation through that, and it must
    still reach the remote rather than be recorded as synced."""
    made = await _host_series(world, "Intake")
    assert (await world.sync()).outcome == "ok"
    [link] = await world.links()
    await world.patch(f"/appointments/{made['id']}", {"exdates": [_weekly(1).isoformat()]})
    world.remote.retitle(link.remote_id, "Intake (renamed in the app)")
    first = await world.sync()
    assert first.outcome == "ok", first.error
    [conflict] = await world.conflicts()
    assert conflict.winner == "remote"
    assert (await world.sync()).outcome == "ok"
    assert await _remote_view(world) == [
        ("Intake (renamed in the app)", _weekly(0).astimezone(UTC)),
        ("Intake (renamed in the app)", _weekly(2).astimezone(UTC)),
    ]
    [appointment] = await world.appointments()
    assert appointment["title"] == "Intake (renamed in the app)"
    assert [datetime.fromisoformat(x) for x in appointment["exdates"]] == [_weekly(1)]
    assert (await world.sync()).counts["out"] == {}


async def test_a_host_cancellation_of_a_remotely_changed_occurrence_removes_it(
    world: World,
) -> None:
    """Someone moved one occurrence in the calendar app; then the host cancels that very
    occurrence. Google keeps a changed instance as an event of its own, which an EXDATE on
    the series does not remove: the instance is cancelled too, and it is gone on both."""
    series = world.remote.insert_weekly("Check-in", SOON, SOON + timedelta(hours=1), 3)
    assert (await world.sync()).outcome == "ok"
    moved = _weekly(1) + timedelta(hours=5)
    world.remote.change_occurrence(series, _weekly(1), "Check-in (moved)", moved)
    assert (await world.sync()).counts["in"] == {"appointment.occurrence_changed": 1}
    [appointment] = await world.appointments()
    cancel = {"exdates": [_weekly(1).isoformat()]}
    patched = await world.patch(f"/appointments/{appointment['id']}", cancel)
    assert patched["overrides"] == []
    report = await world.sync()
    assert report.counts["out"] == {"appointment.update": 1}, report.counts
    assert await _remote_view(world) == [
        ("Check-in", _weekly(0).astimezone(UTC)),
        ("Check-in", _weekly(2).astimezone(UTC)),
    ]
    assert (await world.sync()).counts == {"in": {}, "out": {}}


async def test_one_occurrence_changed_on_both_sides_keeps_both_versions(world: World) -> None:
    """The host moves the second occurrence; before the next pass someone moves the same
    occurrence elsewhere in the calendar app (later, so newer wins gives it the win). The
    host's version is kept as a conflict record naming the occurrence, and restoring it
    brings back that occurrence alone, on both sides."""
    made = await _host_series(world, "Supervision")
    assert (await world.sync()).outcome == "ok"
    ours = _weekly(1) + timedelta(hours=1)
    change = {"original_start": _weekly(1).isoformat(), "title": "Supervision (host)",
              "start": ours.isoformat(),
              "end": (ours + timedelta(hours=1)).isoformat()}  # fmt: skip
    await world.patch(f"/appointments/{made['id']}", {"overrides": [change]})
    [series] = world.remote.items()
    theirs = _weekly(1) + timedelta(hours=3)
    world.remote.change_occurrence(series.id, _weekly(1), "Supervision (app)", theirs)
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["in"].get("appointment.conflict") == 1, report.counts
    [conflict] = await world.conflicts()
    assert conflict.winner == "remote"
    assert conflict.loser_snapshot["occurrence"] is True
    assert conflict.loser_snapshot["title"] == "Supervision (host)"
    assert conflict.winner_snapshot["title"] == "Supervision (app)"
    assert (await world.sync()).counts["out"] == {}
    assert ("Supervision (app)", theirs.astimezone(UTC)) in await _remote_view(world)
    restored = await world.api.post(
        f"/api/v1/conflicts/{conflict.id}/restore", headers=world.manager
    )
    assert restored.status_code == 200, restored.text
    assert (await world.sync()).outcome == "ok"
    assert await _remote_view(world) == [
        ("Supervision", _weekly(0).astimezone(UTC)),
        ("Supervision", _weekly(2).astimezone(UTC)),
        ("Supervision (host)", ours.astimezone(UTC)),
    ]
    [appointment] = await world.appointments()
    assert [o["title"] for o in appointment["overrides"]] == ["Supervision (host)"]


async def test_a_series_whose_changed_occurrence_failed_to_go_out_converges(
    world: World,
) -> None:
    """The series is created but writing its changed occurrence fails for good, so the pass
    ends before the link is saved. The next pass finds our event without a link and with
    other content (the series alone shows no changed occurrence): whichever version the
    conflict keeps, the host's changed occurrence must still reach the remote."""
    late = _weekly(1) + timedelta(hours=4)
    moved = {"original_start": _weekly(1).isoformat(), "title": "Review (late)",
             "start": late.isoformat(), "end": (late + timedelta(hours=1)).isoformat()}  # fmt: skip
    await _host_series(world, "Review", overrides=[moved])
    occurrence_write = "PUT" if world.remote.name == "google" else "PATCH"
    world.remote.faults.add(Fault(status=400, reason="badRequest", method=occurrence_write))
    failed = await world.sync()
    assert failed.outcome == "failed", failed
    assert await world.links() == []
    world.remote.faults.clear()
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).outcome == "ok"
    assert await _remote_view(world) == [
        ("Review", _weekly(0).astimezone(UTC)),
        ("Review", _weekly(2).astimezone(UTC)),
        ("Review (late)", late.astimezone(UTC)),
    ]
    [appointment] = await world.appointments()
    assert [o["title"] for o in appointment["overrides"]] == ["Review (late)"]
    assert (await world.sync()).counts["out"] == {}


async def test_a_series_moved_on_the_host_loses_no_occurrence_to_the_next_listing(
    world: World,
) -> None:
    """Found in review: the host moves a series an hour later and, before the next pass, the
    cursor expires (a full listing). Graph shows cancellations only by absence; read against
    the host's moved series, every occurrence the listing shows at the old time looked
    cancelled. Absences are read against the series as the remote has it."""
    made = await _host_series(world, "Prep", rrule="FREQ=WEEKLY;COUNT=4")
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).outcome == "ok"
    later = SOON + timedelta(hours=1)
    moved = {"start_at": later.isoformat(), "end_at": (later + timedelta(hours=1)).isoformat()}
    await world.patch(f"/appointments/{made['id']}", moved)
    world.remote.expire_cursor()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert "appointment.occurrence_cancelled" not in report.counts["in"], report.counts
    [appointment] = await world.appointments()
    assert appointment["exdates"] == []
    assert await _remote_view(world) == [
        ("Prep", (_weekly(n) + timedelta(hours=1)).astimezone(UTC)) for n in range(4)
    ]


def _late(title: str, hours: int) -> dict[str, str]:
    """The second occurrence, moved ``hours`` later and retitled."""
    late = _weekly(1) + timedelta(hours=hours)
    return {"original_start": _weekly(1).isoformat(), "title": title,
            "start": late.isoformat(), "end": (late + timedelta(hours=1)).isoformat()}  # fmt: skip


async def test_the_echo_of_an_occurrence_write_does_not_undo_a_later_host_change(
    world: World,
) -> None:
    """Found in review: the host changes an occurrence, the pass sends it, and the host
    changes it again before the next pass reads the echo of the first write. The link keeps
    each occurrence as last synced, so the echo is recognised: no conflict, and the host's
    later change is what both sides end with."""
    made = await _host_series(world, "Clinic")
    url = f"/appointments/{made['id']}"
    assert (await world.sync()).outcome == "ok"
    await world.patch(url, {"overrides": [_late("Clinic (late)", 4)]})
    assert (await world.sync()).counts["out"] == {"appointment.update": 1}
    await world.patch(url, {"overrides": [_late("Clinic (later)", 5)]})
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).outcome == "ok"
    assert await world.conflicts() == []
    [appointment] = await world.appointments()
    assert [o["title"] for o in appointment["overrides"]] == ["Clinic (later)"]
    assert ("Clinic (later)", (_weekly(1) + timedelta(hours=5)).astimezone(UTC)) in (
        await _remote_view(world)
    )


async def test_a_private_host_series_keeps_its_changed_occurrence_details(world: World) -> None:
    """Found in review: the echo of a private host series' changed occurrence came back as
    "Private appointment" with times only (the rule for importing someone else's private
    events) and replaced the host's details."""
    moved = {**_late("Secret (late)", 4), "location": "Room 9", "notes": "bring the file"}
    await _host_series(world, "Secret", private=True, overrides=[moved])
    for _ in range(3):
        assert (await world.sync()).outcome == "ok"
    [appointment] = await world.appointments()
    [override] = appointment["overrides"]
    assert (override["title"], override["location"], override["notes"]) == (
        "Secret (late)", "Room 9", "bring the file"
    )  # fmt: skip


async def test_a_new_rule_keeps_what_the_provider_keeps(world: World) -> None:
    """Found by the state machine on Google: someone cancels an occurrence, then changes how
    often the series occurs. Google keeps the cancelled occurrence while the new rule still
    has it; Graph drops cancellations with the old rule. The host keeps what the provider
    keeps, so both sides agree either way."""
    series = world.remote.insert_weekly("Group session", SOON, SOON + timedelta(hours=1), 3)
    assert (await world.sync()).outcome == "ok"
    world.remote.cancel_occurrence(series, _weekly(1))
    assert (await world.sync()).counts["in"] == {"appointment.occurrence_cancelled": 1}
    set_occurrence_count(world.remote, series, 4)
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).counts["out"] == {}
    kept = world.remote.name == "google"
    expected = [("Group session", _weekly(n).astimezone(UTC)) for n in range(4)]
    if kept:
        expected.remove(("Group session", _weekly(1).astimezone(UTC)))
    assert await _remote_view(world) == expected
    [appointment] = await world.appointments()
    assert len(appointment["exdates"]) == (1 if kept else 0)


async def test_an_occurrence_cancelled_again_after_a_new_rule_is_news(world: World) -> None:
    """Found by the state machine on Graph: an occurrence cancelled remotely (the link records
    it cancelled), then a new rule brings it back (Graph drops cancellations with the old
    rule), then it is cancelled again. The record of the first cancellation went with the old
    rule, so the second one reaches the host."""
    series = world.remote.insert_weekly("Case review", SOON, SOON + timedelta(hours=1), 3)
    assert (await world.sync()).outcome == "ok"
    world.remote.cancel_occurrence(series, _weekly(1))
    assert (await world.sync()).counts["in"] == {"appointment.occurrence_cancelled": 1}
    set_occurrence_count(world.remote, series, 4)
    assert (await world.sync()).outcome == "ok"
    if world.remote.name == "microsoft":  # Google keeps the cancellation under the new rule
        world.remote.cancel_occurrence(series, _weekly(1))
    report = await world.sync()
    assert report.outcome == "ok", report.error
    [appointment] = await world.appointments()
    assert [datetime.fromisoformat(x) for x in appointment["exdates"]] == [_weekly(1)]
    assert ("Case review", _weekly(1).astimezone(UTC)) not in await _remote_view(world)


async def test_an_occurrence_cancelled_after_a_new_rule_reaches_the_host(world: World) -> None:
    """Found by the state machine on Graph: a host series is synced, someone gives it a new
    rule in the calendar app and then cancels one of its occurrences. One listing brings
    both: the cancellation (read by its absence, against the new rule) and the series with
    its new rule, which resets what the host held of its occurrences. The cancellation is
    read again after the reset, so the host ends with it too."""
    made = await _host_series(world, "Strategy", rrule="FREQ=WEEKLY;COUNT=4")
    assert (await world.sync()).outcome == "ok"
    four = [("Strategy", _weekly(n).astimezone(UTC)) for n in range(4)]
    assert await _remote_view(world) == four
    [series] = world.remote.items()  # as the calendar app knows it
    set_occurrence_count(world.remote, series.id, 5)
    world.remote.cancel_occurrence(series.id, _weekly(1))
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts["out"] == {}, report.counts
    [appointment] = await world.appointments()
    assert appointment["id"] == made["id"]
    assert appointment["rrule"].startswith("FREQ=WEEKLY;COUNT=5"), appointment["rrule"]
    assert [datetime.fromisoformat(x) for x in appointment["exdates"]] == [_weekly(1)]
    expected = [("Strategy", _weekly(n).astimezone(UTC)) for n in (0, 2, 3, 4)]
    assert await _remote_view(world) == expected
    assert (await world.sync()).counts == {"in": {}, "out": {}}
