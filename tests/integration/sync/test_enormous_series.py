"""Series from a provider beyond what CaseCal accepts itself (issue 11 item 6): an endless
daily series, COUNT=1000000 and UNTIL=99991231 come in without a crash and without expanding
without bound, stay editable, and a week far ahead renders from a bounded expansion."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from remotes import GoogleRemote, MicrosoftRemote
from sync_world import World

from casecal.domain.occurrences import Shown, shown_occurrences

START = (datetime.now(UTC) + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)


def _google(remote: GoogleRemote, title: str, rule: str) -> None:
    remote.emu.client_insert(remote.calendar_id, {
        "summary": title,
        "start": {"dateTime": START.isoformat(), "timeZone": "America/New_York"},
        "end": {"dateTime": (START + timedelta(hours=1)).isoformat(),
                "timeZone": "America/New_York"},
        "recurrence": [f"RRULE:{rule}"],
    })  # fmt: skip


def _microsoft(remote: MicrosoftRemote, title: str, rng: dict[str, Any]) -> None:
    local = START.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    remote.emu.create_event_as_other(remote.oid, {
        "subject": title,
        "start": {"dateTime": local.isoformat(), "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": (local + timedelta(hours=1)).isoformat(),
                "timeZone": "Eastern Standard Time"},
        "recurrence": {"pattern": {"type": "daily", "interval": 1},
                       "range": {"startDate": local.date().isoformat(), **rng}},
    })  # fmt: skip


async def test_enormous_remote_series_sync_in_and_render_boundedly(world: World) -> None:
    remote = world.remote
    if isinstance(remote, GoogleRemote):
        _google(remote, "Endless", "FREQ=DAILY")
        _google(remote, "A million", "FREQ=DAILY;COUNT=1000000")
        _google(remote, "Year 9999", "FREQ=DAILY;UNTIL=99991231T235959Z")
    else:
        assert isinstance(remote, MicrosoftRemote)
        _microsoft(remote, "Endless", {"type": "noEnd"})
        _microsoft(remote, "A million", {"type": "numbered", "numberOfOccurrences": 1000000})
        _microsoft(remote, "Year 9999", {"type": "endDate", "endDate": "9999-12-31"})
    began = time.monotonic()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    again = await world.sync()
    assert again.outcome == "ok", again.error
    assert time.monotonic() - began < 30
    series = {a["title"]: a for a in await world.appointments()}
    assert sorted(series) == ["A million", "Endless", "Year 9999"]
    assert all(a["rrule"].startswith("FREQ=DAILY") for a in series.values())

    # A case manager may still rename one: the limits apply to rules CaseCal is given.
    renamed = await world.patch(f"/appointments/{series['Endless']['id']}", {"title": "Daily"})
    assert renamed["rrule"] == series["Endless"]["rrule"]
    report = await world.sync()
    assert report.outcome == "ok", report.error

    # A week thirty years on: the expansion stops at its bound instead of running to 9999.
    lo = START + timedelta(days=365 * 30)
    first = Shown(START, "Year 9999", START, START + timedelta(hours=1), "")
    began = time.monotonic()
    for item in series.values():
        shown_occurrences(first, item["rrule"], "America/New_York", (), (), lo,
                          lo + timedelta(days=7))  # fmt: skip
    assert time.monotonic() - began < 5
