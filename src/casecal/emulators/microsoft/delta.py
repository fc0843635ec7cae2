"""calendarView/delta: the first round within a window, nextLink pages, deltaLink rounds with
``@removed`` entries, series kept on one page, and expired tokens answered with 410."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from casecal.emulators.microsoft import instances
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.graph import GraphRequest, GraphResponse, GraphRouter
from casecal.emulators.microsoft.graph_events import calendar_for, self_link, window
from casecal.emulators.microsoft.instances import Instance
from casecal.emulators.microsoft.render import View, render, render_removed
from casecal.emulators.microsoft.state import DeltaCursor, MicrosoftState, StoredEvent
from casecal.emulators.microsoft.tz import resolve_zone

DEFAULT_PAGE = 10
Unit = list[tuple[str, Any]]
"""Items served together: ("event", (immutable id, slot key or None)) or ("removed", id)."""


def sync_state_not_found(location: str | None) -> GraphError:
    headers = {"Location": location} if location else {}
    return GraphError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found or has expired. Restart the sync without a "
        "token (full resync).",
        headers,
    )


def _units_for(event: StoredEvent, lo: datetime, hi: datetime, view: View) -> Unit:
    zone = resolve_zone(view.zone)
    found = instances.view_instances(event, lo, hi, zone)
    return [("event", (event.immutable_id, i.key)) for i in found]


def _removed_unit(event: StoredEvent, rest_id: str, lo: datetime, hi: datetime, view: View) -> Unit:
    master_id = event.immutable_id if view.immutable else rest_id
    unit: Unit = [("removed", master_id)]
    if event.recurrence:
        for inst in instances.expand(event, lo, hi, resolve_zone(view.zone)):
            if inst.key is not None:
                unit.append(("removed", f"{master_id}_{instances.stamp(inst.key)}"))
    return unit


def initial_units(
    state: MicrosoftState, calendar_id: str, lo: datetime, hi: datetime, view: View
) -> list[Unit]:
    units = [_units_for(e, lo, hi, view) for e in state.events_in(calendar_id)]
    return [u for u in units if u]


def changed_units(state: MicrosoftState, cursor: DeltaCursor, view: View) -> list[Unit]:
    lo, hi = cursor.window
    changes: list[tuple[int, Unit]] = []
    for event in state.events_in(cursor.calendar_id):
        if event.seq > cursor.watermark:
            unit = _units_for(event, lo, hi, view)
            changes.append((event.seq, unit or _removed_unit(event, event.rest_id, lo, hi, view)))
    for stone in state.tombstones:
        if stone.seq > cursor.watermark and stone.calendar_id == cursor.calendar_id:
            changes.append((stone.seq, _removed_unit(stone.event, stone.rest_id, lo, hi, view)))
    changes.sort(key=lambda pair: pair[0])
    return [unit for _, unit in changes]


def _render_unit(state: MicrosoftState, view: View, unit: Unit) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, ref in unit:
        if kind == "removed":
            out.append(render_removed(view, ref))
            continue
        event_id, key = ref
        event = state.events.get(event_id)
        if event is None:
            continue
        inst = (
            Instance(None, None, event, event.start, event.end)
            if key is None
            else (instances.slot(event, key))
        )
        if inst is not None:
            out.append(render(state, view, inst))
    return out


def register(router: GraphRouter, state: MicrosoftState) -> None:
    def page_size(req: GraphRequest) -> int:
        raw = req.prefer().get("odata.maxpagesize")
        if raw is None:
            return DEFAULT_PAGE
        if not raw.isdigit() or int(raw) < 1:
            raise GraphError(400, "ErrorInvalidRequest", f"Invalid odata.maxpagesize '{raw}'.")
        return int(raw)

    def check_query(req: GraphRequest) -> None:
        for key in req.query:
            if key.startswith("$") and key not in ("$skiptoken", "$deltatoken"):
                raise GraphError(
                    400,
                    "ErrorInvalidUrlQuery",
                    f"The query parameter '{key}' is not supported with change tracking over "
                    "the 'CalendarView' resource.",
                )
        has_token = "$skiptoken" in req.query or "$deltatoken" in req.query
        if has_token and ({"startDateTime", "endDateTime"} & set(req.query)):
            raise GraphError(
                400,
                "ErrorInvalidUrlQuery",
                "startDateTime and endDateTime are encoded in the token; send them only on the "
                "first request of a sync.",
            )

    def load(req: GraphRequest, calendar_id: str) -> DeltaCursor:
        assert req.user is not None
        assert req.caller is not None
        token = req.query.get("$skiptoken") or req.query.get("$deltatoken") or ""
        cursor = state.cursors.get(token)
        if cursor is None:
            raise sync_state_not_found(None)
        if cursor.expired:
            lo, hi = cursor.window
            raise sync_state_not_found(
                self_link(
                    req,
                    {
                        "startDateTime": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "endDateTime": hi.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                )
            )
        if (cursor.oid, cursor.client_id, cursor.calendar_id) != (
            req.user.oid,
            req.caller.client_id,
            calendar_id,
        ):
            raise GraphError(
                400, "ErrorInvalidUrlQuery", "The token does not belong to this resource."
            )
        return cursor

    def save(
        req: GraphRequest,
        kind: str,
        calendar_id: str,
        window_: tuple[datetime, datetime],
        watermark: int,
        pending: list[Unit],
    ) -> str:
        assert req.user is not None
        assert req.caller is not None
        token = secrets.token_urlsafe(24)
        state.cursors[token] = DeltaCursor(
            token,
            kind,
            req.user.oid,
            req.caller.client_id,
            calendar_id,
            req.path,
            window_,
            watermark,
            pending,
        )
        return token

    async def delta(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        calendar = calendar_for(state, req, m)
        check_query(req)
        size = page_size(req)
        view = req.view()
        if "$skiptoken" in req.query:
            cursor = load(req, calendar.id)
            units, window_, watermark = cursor.pending, cursor.window, cursor.watermark
        elif "$deltatoken" in req.query:
            cursor = load(req, calendar.id)
            window_, watermark = cursor.window, state.sequence
            units = changed_units(state, cursor, view)
        else:
            window_, watermark = window(req), state.sequence
            units = initial_units(state, calendar.id, *window_, view)
        served: list[dict[str, Any]] = []
        taken = 0
        for unit in units:
            if served and len(served) + len(unit) > size:
                break
            served.extend(_render_unit(state, view, unit))
            taken += 1
        rest = units[taken:]
        body: dict[str, Any] = {
            "@odata.context": f"{req.base}{req.version}/$metadata#Collection(event)",
            "value": served,
        }
        if rest:
            token = save(req, "skip", calendar.id, window_, watermark, rest)
            body["@odata.nextLink"] = self_link(req, {"$skiptoken": token})
        else:
            token = save(req, "delta", calendar.id, window_, watermark, [])
            body["@odata.deltaLink"] = self_link(req, {"$deltatoken": token})
        headers = {"Preference-Applied": f"odata.maxpagesize={size}"}
        return GraphResponse(200, body, headers)

    router.add("GET", r"/me/calendarView/delta", delta)
    router.add(
        "GET",
        r"/me(?:/calendar|/calendars/(?P<cid>[^/]+))/calendarView/delta",
        delta,
        versions=("beta",),
    )


def expire_all(state: MicrosoftState) -> int:
    """Evict every delta and skip token, as Exchange's token cache does; returns how many."""
    for cursor in state.cursors.values():
        cursor.expired = True
    return len(state.cursors)
