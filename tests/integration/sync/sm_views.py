"""What each side shows, as (title, start instant) occurrences, computed independently of the
engine: the host's entries expanded here with dateutil, the remote calendar expanded by the
emulator itself (Google ``singleEvents``, Graph ``calendarView``) and read over its API as any
client would. Comparing the two checks titles, times, recurrence rules, cancelled occurrences
and duplicates at once. Also the remote-side edits the machine makes that ``remotes`` lacks:
changing a series' number of occurrences, and telling a court-date event from an appointment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from caldav_remote import CalDavRemote
from dateutil.rrule import rrulestr
from remotes import GoogleRemote, MicrosoftRemote, Remote

from casecal.providers.base import Provider
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.google.json import google_tag
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.msgraph.json import graph_tag

Occurrence = tuple[str, datetime]


def host_occurrences(item: dict[str, Any], lo: datetime, hi: datetime) -> list[Occurrence]:
    """The occurrences of an appointment as the API returns it (timed ones only): the rule's,
    less the cancelled ones, each changed one with its own title and start."""
    zone = ZoneInfo(item["time_zone"])
    start = datetime.fromisoformat(item["start_at"]).astimezone(zone)
    if not item.get("rrule"):
        return [(item["title"], start.astimezone(UTC))]
    excluded = {datetime.fromisoformat(x).astimezone(UTC) for x in item["exdates"]}
    changed = {
        datetime.fromisoformat(o["original_start"]).astimezone(UTC): (
            o["title"],
            datetime.fromisoformat(o["start"]).astimezone(UTC),
        )
        for o in item.get("overrides", [])
    }
    rule = rrulestr(item["rrule"], dtstart=start)
    starts = (o.astimezone(UTC) for o in rule.between(lo, hi, inc=True))
    return [changed.get(s, (item["title"], s)) for s in starts if s not in excluded]


async def remote_occurrences(
    remote: Remote, adapter: Provider, lo: datetime, hi: datetime
) -> list[Occurrence]:
    """Every occurrence the calendar shows in [lo, hi), series expanded by the provider."""
    if isinstance(remote, CalDavRemote):  # Radicale's own expansion (calendar-query expand)
        return [(title, start) for title, start, _, _ in remote.occurrences(lo, hi)]
    if isinstance(remote, GoogleRemote):
        assert isinstance(adapter, GoogleCalendarProvider)
        return [o async for o in _google_instances(remote, adapter, lo, hi)]
    assert isinstance(remote, MicrosoftRemote)
    assert isinstance(adapter, MicrosoftGraphProvider)
    return [o async for o in _graph_view(remote, adapter, lo, hi)]


async def _google_instances(
    remote: GoogleRemote, adapter: GoogleCalendarProvider, lo: datetime, hi: datetime
) -> AsyncIterator[Occurrence]:
    url = f"{remote.base}/calendar/v3/calendars/{quote(remote.calendar_id, safe='')}/events"
    params: dict[str, Any] = {
        "singleEvents": "true",
        "timeMin": _z(lo),
        "timeMax": _z(hi),
        "maxResults": 250,
    }
    while True:
        page = await adapter.http.json("GET", url, params=params)
        for item in page.get("items", []):
            start = datetime.fromisoformat(item["start"]["dateTime"])
            yield item.get("summary", ""), start.astimezone(UTC)
        if not page.get("nextPageToken"):
            return
        params["pageToken"] = page["nextPageToken"]


async def _graph_view(
    remote: MicrosoftRemote, adapter: MicrosoftGraphProvider, lo: datetime, hi: datetime
) -> AsyncIterator[Occurrence]:
    url: str | None = f"{remote.base}/v1.0/me/calendars/{quote(remote.calendar_id)}/calendarView"
    params: dict[str, Any] | None = {"startDateTime": _z(lo), "endDateTime": _z(hi), "$top": 100}
    while url is not None:
        page = await adapter.http.json("GET", url, params=params)
        for item in page.get("value", []):
            start = datetime.fromisoformat(item["start"]["dateTime"][:19])  # UTC (Prefer header)
            yield item.get("subject", ""), start.replace(tzinfo=UTC)
        url, params = page.get("@odata.nextLink"), None


def _z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_series(remote: Remote, event_id: str) -> bool:
    return bool(remote.raw(event_id).get("recurrence"))


def is_court_date(remote: Remote, event_id: str) -> bool:
    """True when the event carries our tag of a court date (a host-authoritative kind)."""
    raw = remote.raw(event_id)
    if isinstance(remote, CalDavRemote):
        tag = raw["tag"]
        return tag is not None and tag.kind != "appointment"
    tag = google_tag(raw) if isinstance(remote, GoogleRemote) else graph_tag(raw)
    return tag is not None and tag.kind != "appointment"


def set_occurrence_count(remote: Remote, event_id: str, count: int) -> None:
    """Another client changes how many times a weekly series occurs."""
    if isinstance(remote, CalDavRemote):
        remote.set_count(event_id, count)
        return
    raw = remote.raw(event_id)
    if isinstance(remote, GoogleRemote):
        lines = [_with_count(line, count) for line in raw["recurrence"]]
        remote.emu.client_patch(remote.calendar_id, event_id, {"recurrence": lines})
        return
    assert isinstance(remote, MicrosoftRemote)
    recurrence = dict(raw["recurrence"])
    recurrence["range"] = {**recurrence["range"], "type": "numbered", "numberOfOccurrences": count}
    recurrence["range"].pop("endDate", None)
    remote.emu.update_event_as_other(remote.oid, event_id, {"recurrence": recurrence})


def _with_count(line: str, count: int) -> str:
    if not line.startswith("RRULE:"):
        return line
    parts = [
        p for p in line.removeprefix("RRULE:").split(";") if not p.startswith(("COUNT=", "UNTIL="))
    ]
    return "RRULE:" + ";".join([*parts, f"COUNT={count}"])


async def change_occurrence(
    remote: Remote, adapter: Provider, event_id: str, nth: int, title: str
) -> bool:
    """Another client retitles the ``nth`` occurrence (0-based) of a series and moves it two
    hours later; False when the series has no such occurrence."""
    if isinstance(remote, CalDavRemote):
        mine = _caldav_instances(remote, event_id)
        if nth >= len(mine):
            return False
        _, start, _, original = mine[nth]
        remote.change_at(event_id, original, title, start + timedelta(hours=2))
        return True
    found = await _instances(remote, adapter, event_id)
    if nth >= len(found):
        return False
    item = found[nth]
    if isinstance(remote, GoogleRemote):
        start = datetime.fromisoformat(item["start"]["dateTime"]) + timedelta(hours=2)
        remote.emu.client_patch(remote.calendar_id, item["id"], {
            "summary": title,
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        })  # fmt: skip
        return True
    assert isinstance(remote, MicrosoftRemote)
    start = datetime.fromisoformat(item["start"]["dateTime"][:19]) + timedelta(hours=2)
    remote.emu.update_event_as_other(remote.oid, item["id"], {
        "subject": title,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
    })  # fmt: skip
    return True


async def _instances(remote: Remote, adapter: Provider, event_id: str) -> list[dict[str, Any]]:
    """A series' live occurrences as the provider expands them, in order."""
    if isinstance(remote, GoogleRemote):
        assert isinstance(adapter, GoogleCalendarProvider)
        calendar = quote(remote.calendar_id, safe="")
        url = f"{remote.base}/calendar/v3/calendars/{calendar}/events/{quote(event_id)}/instances"
        items: list[dict[str, Any]] = (await adapter.http.json("GET", url)).get("items", [])
        return items
    assert isinstance(remote, MicrosoftRemote)
    assert isinstance(adapter, MicrosoftGraphProvider)
    url = f"{remote.base}/v1.0/me/events/{quote(event_id)}/instances"
    lo, hi = datetime.now(UTC).replace(year=2000), datetime.now(UTC).replace(year=2100)
    params = {"startDateTime": _z(lo), "endDateTime": _z(hi)}
    found: list[dict[str, Any]] = (await adapter.http.json("GET", url, params=params)).get(
        "value", []
    )
    return found


async def cancel_occurrence(remote: Remote, adapter: Provider, event_id: str, nth: int) -> bool:
    """Another client deletes the ``nth`` occurrence (0-based) of a series, as Outlook or the
    Google Calendar app do; False when the series has no such occurrence."""
    if isinstance(remote, CalDavRemote):
        mine = _caldav_instances(remote, event_id)
        if nth >= len(mine):
            return False
        remote.cancel_at(event_id, mine[nth][3])
        return True
    found = await _instances(remote, adapter, event_id)
    if nth >= len(found):
        return False
    if isinstance(remote, GoogleRemote):
        remote.emu.client_delete(remote.calendar_id, found[nth]["id"])
    else:
        assert isinstance(remote, MicrosoftRemote)
        remote.emu.delete_event_as_other(remote.oid, found[nth]["id"])
    return True


def _caldav_instances(
    remote: CalDavRemote, event_id: str
) -> list[tuple[str, datetime, str, datetime]]:
    """A series' live occurrences as Radicale expands them, in order of original start."""
    lo, hi = datetime.now(UTC).replace(year=2000), datetime.now(UTC).replace(year=2100)
    return [o for o in remote.occurrences(lo, hi) if o[2] == event_id]
