"""events.list and events.instances: full and incremental (syncToken) listing, filters,
recurring-series expansion, tombstones, and server-side page and sync tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import recurrence
from .errors import ApiError, invalid
from .eventtime import to_instant
from .query import Query
from .state import Calendar, State

LIST_PARAMS = {
    "alwaysIncludeEmail", "eventTypes", "iCalUID", "maxAttendees", "maxResults", "orderBy",
    "pageToken", "privateExtendedProperty", "q", "sharedExtendedProperty", "showDeleted",
    "showHiddenInvitations", "singleEvents", "syncToken", "timeMax", "timeMin", "timeZone",
    "updatedMin",
}  # fmt: skip
REPEATABLE = {"privateExtendedProperty", "sharedExtendedProperty", "eventTypes"}
FORBIDDEN_WITH_SYNC = (
    "iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty",
    "timeMin", "timeMax", "updatedMin",
)  # fmt: skip
UPDATED_MIN_WINDOW = timedelta(days=30)
TOMBSTONE_KEYS = (
    "kind",
    "etag",
    "id",
    "status",
    "updated",
    "recurringEventId",
    "originalStartTime",
)


@dataclass
class SyncToken:
    calendar_id: str
    seq: int
    epoch: int
    single_events: bool


@dataclass
class Page:
    fingerprint: str
    items: list[dict[str, Any]]
    offset: int
    next_sync_token: str | None


@dataclass
class Cursors:
    """Server-side sync and page tokens (opaque random strings to the client)."""

    sync: dict[str, SyncToken] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)


def tombstone(resource: dict[str, Any]) -> dict[str, Any]:
    """A cancelled event in a listing: only the guaranteed fields."""
    return {k: resource[k] for k in TOMBSTONE_KEYS if k in resource}


def list_events(state: State, cursors: Cursors, cal: Calendar, query: Query) -> dict[str, Any]:
    max_results = query.integer("maxResults", 250, 1, 2500)
    single = query.flag("singleEvents", False)
    order_by = query.text("orderBy")
    if order_by not in (None, "startTime", "updated"):
        raise invalid(f"Invalid value for orderBy: {order_by}", location="orderBy")
    if order_by == "startTime" and not single:
        raise invalid("The requested ordering is not available for the particular query.")
    sync_value = query.text("syncToken")
    fingerprint = query.fingerprint({"pageToken", "maxResults"})
    page_token = query.text("pageToken")
    if sync_value is not None:
        _check_sync_params(query)
    if page_token is not None:
        page = cursors.pages.get(page_token)
        if page is None or page.fingerprint != fingerprint:
            raise invalid("Invalid page token value.", location="pageToken")
    else:
        if sync_value is not None:
            token = _lookup_sync(cursors, cal, sync_value, single)
            items = _incremental(state, cal, token.seq, single)
        else:
            items = _full(state, cal, query, single)
        if order_by == "startTime":
            tz = ZoneInfo(cal.time_zone)
            items.sort(key=lambda r: to_instant(r["start"], tz))
        elif order_by == "updated":
            items.sort(key=lambda r: str(r["updated"]))
        next_sync = secrets.token_urlsafe(24)
        cursors.sync[next_sync] = SyncToken(cal.id, cal.seq, cal.epoch, single)
        page = Page(fingerprint, items, 0, next_sync)
    chunk = page.items[page.offset : page.offset + max_results]
    body = _envelope(state, cal)
    rest = page.offset + len(chunk)
    if rest < len(page.items):
        next_page = secrets.token_urlsafe(24)
        cursors.pages[next_page] = Page(page.fingerprint, page.items, rest, page.next_sync_token)
        body["nextPageToken"] = next_page
    else:
        body["nextSyncToken"] = page.next_sync_token
    body["items"] = [tombstone(r) if r["status"] == "cancelled" else r for r in chunk]
    return body


def _envelope(state: State, cal: Calendar) -> dict[str, Any]:
    return {
        "kind": "calendar#events",
        "etag": f'"p{cal.seq:x}{cal.epoch:x}"',
        "summary": cal.summary,
        "updated": state.clock.now_dt().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "timeZone": cal.time_zone,
        "defaultReminders": [],
    }


def _check_sync_params(query: Query) -> None:
    for name in FORBIDDEN_WITH_SYNC:
        if query.has(name):
            raise invalid(
                f"The parameter {name} cannot be used together with syncToken.", location=name
            )
    if query.text("showDeleted") == "false":
        raise invalid("showDeleted=false is not allowed together with syncToken.")


def _lookup_sync(cursors: Cursors, cal: Calendar, value: str, single: bool) -> SyncToken:
    token = cursors.sync.get(value)
    if token is None or token.calendar_id != cal.id or token.epoch != cal.epoch:
        raise ApiError(
            410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
        )
    if token.single_events != single:
        raise invalid(
            f"This syncToken was issued with singleEvents={str(token.single_events).lower()}; "
            "send the same value as in the full sync."
        )
    return token


def _incremental(state: State, cal: Calendar, since: int, single: bool) -> list[dict[str, Any]]:
    changed = sorted((s for s in cal.events.values() if s.seq > since), key=lambda s: s.seq)
    if not single:
        return [s.resource for s in changed]
    out: dict[str, dict[str, Any]] = {}
    now = state.clock.now_dt()
    for stored in changed:
        res = stored.resource
        if "recurrence" not in res:
            out[res["id"]] = res
            continue
        for inst in _instances(cal, res, None, None, now, keep_cancelled=True):
            if res["status"] == "cancelled":
                inst = {**inst, "status": "cancelled"}
            out.setdefault(inst["id"], inst)
    return list(out.values())


def _instances(
    cal: Calendar,
    master: dict[str, Any],
    lo: datetime | None,
    hi: datetime | None,
    now: datetime,
    *,
    keep_cancelled: bool,
) -> list[dict[str, Any]]:
    found = []
    for occ in recurrence.occurrences(master, lo, hi, now):
        inst = recurrence.make_instance(master, occ)
        stored = cal.events.get(inst["id"])
        if stored is not None:
            inst = stored.resource
            if inst["status"] == "cancelled" and not keep_cancelled:
                continue
        found.append(inst)
    return found


def _full(state: State, cal: Calendar, query: Query, single: bool) -> list[dict[str, Any]]:
    lo, hi = query.instant("timeMin"), query.instant("timeMax")
    if lo is not None and hi is not None and lo >= hi:
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
    updated_min = query.instant("updatedMin")
    now = state.clock.now_dt()
    if updated_min is not None and updated_min < now - UPDATED_MIN_WINDOW:
        raise ApiError(
            410,
            "updatedMinTooLongAgo",
            "The requested minimum modification time lies too far in the past.",
        )
    show_deleted = query.flag("showDeleted", False) or updated_min is not None
    tz = ZoneInfo(cal.time_zone)
    items: list[dict[str, Any]] = []
    for stored in sorted(cal.events.values(), key=lambda s: s.seq):
        res = stored.resource
        master = cal.events.get(res.get("recurringEventId", ""))
        master_live = master is not None and master.resource["status"] != "cancelled"
        cancelled = res["status"] == "cancelled"
        if "recurrence" in res:
            if cancelled:
                if show_deleted and not single:
                    items.append(res)
                continue
            if single:
                items.extend(
                    i
                    for i in _instances(cal, res, lo, hi, now, keep_cancelled=show_deleted)
                    if i["id"] not in cal.events
                )
            elif recurrence.occurrences(res, lo, hi, now):
                items.append(res)
            continue
        if master_live and single:
            if cancelled and not show_deleted:
                continue
        elif cancelled and not show_deleted and not (master_live and not single):
            continue
        if _in_window(res, lo, hi, tz):
            items.append(res)
    return [r for r in items if _matches(r, query, updated_min)]


def _in_window(res: dict[str, Any], lo: datetime | None, hi: datetime | None, tz: ZoneInfo) -> bool:
    """timeMin bounds the end (exclusive), timeMax the start (exclusive); a cancelled
    instance is placed at its original start."""
    if res["status"] == "cancelled" and "originalStartTime" in res:
        start = end = to_instant(res["originalStartTime"], tz)
        after_lo = lo is None or end >= lo
    else:
        start, end = to_instant(res["start"], tz), to_instant(res["end"], tz)
        after_lo = lo is None or end > lo
    return after_lo and (hi is None or start < hi)


def _matches(res: dict[str, Any], query: Query, updated_min: datetime | None) -> bool:
    if updated_min is not None and datetime.fromisoformat(res["updated"]) < updated_min:
        return False
    uid = query.text("iCalUID")
    if uid is not None and res.get("iCalUID") != uid:
        return False
    types = query.all("eventTypes")
    if types and res.get("eventType", "default") not in types:
        return False
    text = query.text("q")
    if text is not None:
        hay = " ".join(str(res.get(k, "")) for k in ("summary", "description", "location"))
        if text.lower() not in hay.lower():
            return False
    props = res.get("extendedProperties", {})
    for scope, name in (
        ("private", "privateExtendedProperty"),
        ("shared", "sharedExtendedProperty"),
    ):
        wanted = [_pair(v, name) for v in query.all(name)]
        have = props.get(scope, {})
        if wanted and not any(have.get(k) == v for k, v in wanted):
            return False
    return True


def _pair(value: str, name: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise invalid(f"Invalid {name} value: expected propertyName=value.", location=name)
    return key, val


def list_instances(state: State, cal: Calendar, master_id: str, query: Query) -> dict[str, Any]:
    stored = cal.events.get(master_id)
    if stored is None or "recurrence" not in stored.resource:
        raise ApiError(404, "notFound", "Not Found")
    if stored.resource["status"] == "cancelled":
        raise ApiError(410, "deleted", "Resource has been deleted")
    lo, hi = query.instant("timeMin"), query.instant("timeMax")
    keep = query.flag("showDeleted", False)
    items = _instances(cal, stored.resource, lo, hi, state.clock.now_dt(), keep_cancelled=keep)
    body = _envelope(state, cal)
    body["items"] = [tombstone(r) if r["status"] == "cancelled" else r for r in items]
    return body
