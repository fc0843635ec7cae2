"""A case manager's calendar on a real Radicale, seen and edited as another CalDAV client
(a phone, Thunderbird) would: whole resources over plain HTTP, series expanded by Radicale
itself (``calendar-query`` with ``expand``). The two case managers are two users of one
Radicale, started once per test process; faults are injected on the adapter's side of the
wire (``casecal.emulators.caldav_faults``)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import icalendar
from remotes import RemoteItem

from casecal.domain.tags import decode_tag_or_none
from casecal.emulators import caldav_servers
from casecal.emulators.caldav_faults import FaultTransport
from casecal.emulators.caldav_servers import CalDavServer
from casecal.emulators.faults import FaultInjector
from casecal.emulators.requestlog import RequestLog
from casecal.providers.base import Provider
from casecal.providers.caldav import BasicCredentials, CalDavProvider, dav
from casecal.providers.caldav.ical import TAG_PROPERTY

_SERVER: list[CalDavServer] = []
_USERS: dict[str, CalDavServer] = {}
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
QUERY = (
    '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
    'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data>'
    '<C:expand start="{lo}" end="{hi}"/></C:calendar-data></D:prop><C:filter>'
    '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
    '<C:time-range start="{lo}" end="{hi}"/></C:comp-filter></C:comp-filter></C:filter>'
    "</C:calendar-query>"
)


def server() -> CalDavServer:
    """The one Radicale of this process (stopped when it exits)."""
    if not _SERVER:
        root = Path(tempfile.mkdtemp(prefix="casecal-sm-radicale-"))
        _SERVER.append(caldav_servers.start("radicale", root / "radicale"))
        atexit.register(caldav_servers.remove, _SERVER[0])
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    return _SERVER[0]


def user(email: str) -> CalDavServer:
    """``email``'s view of the server, with an empty calendar."""
    main = server()
    if email not in _USERS:
        _USERS[email] = main.add_user(email, f"app-pw-{uuid.uuid4().hex[:12]}")
    view = _USERS[email]
    view.reset_calendar()
    return view


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class CalDavRemote:
    name = "caldav"

    def __init__(self, email: str, faults: FaultInjector | None = None) -> None:
        self.view = user(email)
        self.calendar_id = self.view.calendar_url
        self.base = self.view.url
        self.log = RequestLog()
        self.faults = faults or FaultInjector(seed=1)
        self.feed_path = rf"^{self.view.calendar_path}$"

    # -- reading ------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        return self.view.client()

    def _resources(self) -> dict[str, icalendar.Calendar]:
        with self._http() as http:
            listing = http.request("PROPFIND", self.calendar_id, headers={"Depth": "1"})
            hrefs = [h.split("</href>")[0] for h in listing.text.split("<href>")[1:]]
            return {
                h: icalendar.Calendar.from_ical(http.get(self._url(h)).content)
                for h in hrefs
                if h.endswith(".ics")
            }

    def _url(self, href: str) -> httpx.URL:
        return httpx.URL(self.calendar_id).join(href)

    def items(self) -> list[RemoteItem]:
        found = []
        for href, cal in self._resources().items():
            master = _master(cal)
            found.append(
                RemoteItem(httpx.URL(self._url(href)).path, str(master.get("SUMMARY", "")))
            )
        return found

    def _get(self, event_id: str) -> icalendar.Calendar:
        with self._http() as http:
            return icalendar.Calendar.from_ical(http.get(self._url(event_id)).content)

    def _put(self, event_id: str, cal: icalendar.Calendar) -> None:
        with self._http() as http:
            answer = http.put(self._url(event_id), content=cal.to_ical(), headers=ICS)
            assert answer.status_code in (201, 204), answer.text

    def raw(self, event_id: str) -> dict[str, Any]:
        master = _master(self._get(event_id))
        return {
            "recurrence": [str(master["RRULE"].to_ical().decode())] if "RRULE" in master else [],
            "tag": decode_tag_or_none(str(master.get(TAG_PROPERTY, "")) or None),
        }

    def occurrences(self, lo: datetime, hi: datetime) -> list[tuple[str, datetime, str, datetime]]:
        """(title, start, href, original start) of each occurrence in [lo, hi), expanded by
        Radicale."""
        body = QUERY.format(lo=_stamp(lo), hi=_stamp(hi)).encode()
        with self._http() as http:
            answer = http.request(
                "REPORT", self.calendar_id, content=body,
                headers={"Depth": "1", "Content-Type": "application/xml"},
            )  # fmt: skip
        found = []
        for response in dav.parse_multistatus(answer.content).responses:
            href, data = response.href, response.text(dav.CALENDAR_DATA) or ""
            for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
                start = event.decoded("DTSTART")
                if not isinstance(start, datetime):
                    continue
                original = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else start
                found.append(
                    (str(event.get("SUMMARY", "")), start.astimezone(UTC), str(href),
                     original.astimezone(UTC))
                )  # fmt: skip
        return sorted(found, key=lambda o: (o[2], o[3]))

    # -- editing as another client ------------------------------------------------------
    def _new(self, title: str, start: datetime | date, end: datetime | date) -> tuple[str, Any]:
        uid = f"phone-{uuid.uuid4().hex}"
        event = icalendar.Event()
        event.add("UID", uid)
        event.add("DTSTAMP", datetime.now(UTC))
        event.add("DTSTART", start)
        event.add("DTEND", end)
        event.add("SUMMARY", title)
        event.add("DESCRIPTION", "from the calendar app")
        return self.view.calendar_path + f"{uid}.ics", event

    def _calendar(self, *events: Any) -> icalendar.Calendar:
        cal = icalendar.Calendar()
        cal.add("PRODID", "-//Phone//EN")
        cal.add("VERSION", "2.0")
        for event in events:
            cal.add_component(event)
        cal.add_missing_timezones()
        return cal

    def insert(self, title: str, start: datetime, end: datetime, *, private: bool = False) -> str:
        href, event = self._new(title, start.astimezone(UTC), end.astimezone(UTC))
        if private:
            event.add("CLASS", "PRIVATE")
        self._put(href, self._calendar(event))
        return href

    def insert_all_day(self, title: str, first: date, end: date) -> str:
        href, event = self._new(title, first, end)
        self._put(href, self._calendar(event))
        return href

    def insert_weekly(self, title: str, start: datetime, end: datetime, count: int) -> str:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("America/New_York")
        href, event = self._new(title, start.astimezone(zone), end.astimezone(zone))
        event.add("RRULE", {"FREQ": "WEEKLY", "COUNT": count})
        self._put(href, self._calendar(event))
        return href

    def _edit_master(self, event_id: str, **changes: Any) -> None:
        cal = self._get(event_id)
        master = _master(cal)
        for key, value in changes.items():
            master.pop(key, None)
            if value is not None:
                master.add(key, value)
        master.pop("DTSTAMP", None)
        master.add("DTSTAMP", datetime.now(UTC))
        self._put(event_id, cal)

    def retitle(self, event_id: str, title: str) -> None:
        self._edit_master(event_id, SUMMARY=title)

    def move(self, event_id: str, start: datetime, end: datetime) -> None:
        self._edit_master(event_id, DTSTART=start.astimezone(UTC), DTEND=end.astimezone(UTC))

    def delete(self, event_id: str) -> None:
        with self._http() as http:
            http.delete(self._url(event_id))

    def set_count(self, event_id: str, count: int) -> None:
        cal = self._get(event_id)
        rule = dict(_master(cal)["RRULE"])
        rule.pop("UNTIL", None)
        rule["COUNT"] = [count]
        self._edit_master(event_id, RRULE=rule)

    def cancel_at(self, event_id: str, original: datetime) -> None:
        """Delete one occurrence, as a phone does: an EXDATE, its override (if any) gone."""
        cal = self._get(event_id)
        master = _master(cal)
        keep = [c for c in cal.subcomponents if not _is_override_at(c, original)]
        cal.subcomponents[:] = keep
        master.add("EXDATE", [_in_master_zone(master, original)])
        self._put(event_id, cal)

    def change_at(self, event_id: str, original: datetime, title: str, start: datetime) -> None:
        """Retitle and move one occurrence (an hour long): an override VEVENT."""
        cal = self._get(event_id)
        master = _master(cal)
        cal.subcomponents[:] = [c for c in cal.subcomponents if not _is_override_at(c, original)]
        single = icalendar.Event()
        single.add("UID", master["UID"])
        single.add("DTSTAMP", datetime.now(UTC))
        single.add("RECURRENCE-ID", _in_master_zone(master, original))
        single.add("DTSTART", start.astimezone(UTC))
        single.add("DTEND", start.astimezone(UTC) + timedelta(hours=1))
        single.add("SUMMARY", title)
        cal.add_component(single)
        self._put(event_id, cal)

    def cancel_occurrence(self, series_id: str, original_start: datetime) -> None:
        self.cancel_at(series_id, original_start)

    def change_occurrence(
        self, series_id: str, original_start: datetime, title: str, start: datetime
    ) -> None:
        self.change_at(series_id, original_start, title, start)

    def expire_cursor(self) -> None:
        """Radicale forgets its sync tokens (what ``max_sync_token_age`` does)."""
        root = self.view.root / "storage" / "collection-root"
        for cache in root.rglob(".Radicale.cache"):
            shutil.rmtree(cache / "sync-token", ignore_errors=True)

    def forget_deleted(self) -> None:
        """CalDAV keeps no tombstones: nothing to purge."""

    async def provider(self, email: str) -> tuple[Provider, httpx.AsyncClient]:
        transport = FaultTransport(httpx.AsyncHTTPTransport(), self.faults)
        http = httpx.AsyncClient(transport=transport)
        adapter = CalDavProvider(
            http,
            BasicCredentials(self.view.username, self.view.password),
            server_url=self.view.url,
            username=self.view.username,
        )
        return adapter, http


def _master(cal: icalendar.Calendar) -> Any:
    return next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)


def _is_override_at(component: Any, original: datetime) -> bool:
    if component.name != "VEVENT" or "RECURRENCE-ID" not in component:
        return False
    value = component.decoded("RECURRENCE-ID")
    return isinstance(value, datetime) and value.astimezone(UTC) == original.astimezone(UTC)


def _in_master_zone(master: Any, value: datetime) -> datetime:
    start = master.decoded("DTSTART")
    if isinstance(start, datetime) and start.tzinfo is not None:
        return value.astimezone(start.tzinfo)
    return value.astimezone(UTC)
