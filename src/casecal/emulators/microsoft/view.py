"""A small HTML view of every emulated calendar (for the demo): /view/ lists the users and
their calendars, /view/{oid}/{calendar id} shows the events of one calendar in their own time
zones, with plain forms to add, move and delete events (``view_edit``)."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta, tzinfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from casecal.emulators.microsoft import instances
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.instances import Instance
from casecal.emulators.microsoft.state import MicrosoftState
from casecal.emulators.microsoft.tz import resolve_zone
from casecal.emulators.microsoft.urls import base_url
from casecal.emulators.microsoft.view_edit import edit_routes, instance_id

STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
    "padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}"
    ".muted{color:#777}form.inline{display:inline}fieldset{margin:1rem 0;border:1px solid #ddd}"
    "label{margin-right:.6rem}.error{color:#a00}</style>"
)
ZONES = (
    "UTC", "Eastern Standard Time", "Central Standard Time", "Mountain Standard Time",
    "Pacific Standard Time", "GMT Standard Time", "W. Europe Standard Time",
    "Romance Standard Time", "India Standard Time", "Tokyo Standard Time",
)  # fmt: skip
"""Suggestions for the add form; any Windows or IANA name Graph accepts may be typed."""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title>{STYLE}<h1>{html.escape(title)}</h1>{body}",
        status_code=status,
    )


def event_zone(inst: Instance) -> tuple[str, tzinfo]:
    """The zone an instance was written in (its series' for an occurrence)."""
    name = inst.event.start_tz or "UTC"
    try:
        return name, resolve_zone(name)
    except GraphError:
        return "UTC", UTC


def when(inst: Instance) -> tuple[str, str]:
    """The instance's time as its owner wrote it (wall time and zone name), and in UTC."""
    start, end = inst.start, inst.end
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        assert isinstance(start, date)
        assert isinstance(end, date)
        last = end - timedelta(days=1)
        days = start.isoformat() if last <= start else f"{start.isoformat()} to {last.isoformat()}"
        return f"{days} (all day)", ""
    name, zone = event_zone(inst)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    span = f"{local_start:%a %Y-%m-%d %H:%M}-{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        span = f"{local_start:%a %Y-%m-%d %H:%M} - {local_end:%a %Y-%m-%d %H:%M}"
    utc = f"{start.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{span} ({name})", utc


def _row(inst: Instance, action: str) -> str:
    data = {**(inst.master.props if inst.master else {}), **inst.event.props}
    local, utc = when(inst)
    location = str((data.get("location") or {}).get("displayName", ""))
    subject = html.escape(str(data.get("subject") or ""))
    target = html.escape(instance_id(inst))
    _, zone = event_zone(inst)
    timed = isinstance(inst.start, datetime)
    start = inst.start.astimezone(zone) if isinstance(inst.start, datetime) else inst.start
    day = start.date() if isinstance(start, datetime) else start
    clock = (
        f"<input name='time' type='time' required value='{start:%H:%M}' aria-label='new time'>"
        if isinstance(start, datetime)
        else ""
    )
    move = (
        f"<form class='inline' method='post' action='{html.escape(action)}/move'>"
        f"<input type='hidden' name='id' value='{target}'>"
        f"<input name='date' type='date' required value='{day.isoformat()}' aria-label='new date'>"
        f"{clock}<button>Move</button></form>"
    )
    remove = (
        f"<form class='inline' method='post' action='{html.escape(action)}/delete'>"
        f"<input type='hidden' name='id' value='{target}'><button>Delete</button></form>"
    )
    zone_note = f"<br><span class='muted'>{html.escape(utc)}</span>" if timed else ""
    return (
        f"<tr><td>{html.escape(local)}{zone_note}</td><td>{subject}</td>"
        f"<td>{html.escape(location)}</td><td class='muted'>{html.escape(inst.kind)}</td>"
        f"<td>{move} {remove}</td></tr>"
    )


def add_form(action: str, zone: str) -> str:
    options = "".join(f"<option value='{html.escape(z)}'>" for z in ZONES)
    return (
        f"<fieldset><legend>Add an event (as the user would in Outlook)</legend>"
        f"<form method='post' action='{html.escape(action)}/add'>"
        f"<label>Subject <input name='subject' required></label>"
        f"<label>Date <input name='date' type='date' required></label>"
        f"<label>Start <input name='start' type='time' value='09:00'></label>"
        f"<label>End <input name='end' type='time' value='10:00'></label>"
        f"<label>All day <input name='all_day' type='checkbox' value='1'></label>"
        f"<label>Time zone <input name='zone' list='zones' value='{html.escape(zone)}'></label>"
        f"<datalist id='zones'>{options}</datalist>"
        f"<label>Location <input name='location'></label>"
        f"<button>Add</button></form></fieldset>"
    )


def view_routes(state: MicrosoftState) -> list[Route]:
    async def index(request: Request) -> Response:
        base = base_url(request.scope)
        rows = []
        for user in state.users.values():
            tenant = state.tenants[user.tenant_id]
            links = ", ".join(
                f"<a href='{html.escape(f'{base}view/{user.oid}/{c.id}')}'>"
                f"{html.escape(c.name)}</a> ({len(state.events_in(c.id))})"
                for c in state.calendars_of(user.oid)
            )
            rows.append(
                f"<tr><td>{html.escape(user.name)}</td><td>{html.escape(user.upn)}"
                f"</td><td>{html.escape(tenant.domain)}</td><td>{links}</td></tr>"
            )
        table = (
            (
                "<table><tr><th>User</th><th>UPN</th><th>Tenant</th><th>Calendars</th></tr>"
                + "".join(rows)
                + "</table>"
            )
            if rows
            else "<p class='muted'>No users yet.</p>"
        )
        return page("Microsoft 365 emulator", table)

    async def calendar(request: Request) -> Response:
        oid, cid = request.path_params["oid"], request.path_params["cid"]
        cal = state.calendars.get(cid)
        if cal is None or cal.owner_oid != oid:
            return HTMLResponse("<p>No such calendar.</p>", status_code=404)
        now = state.clock.now()
        lo, hi = now - timedelta(days=365), now + timedelta(days=365)
        found: list[Instance] = []
        for event in state.events_in(cid):
            found.extend(instances.view_instances(event, lo, hi, UTC))
        found.sort(key=lambda i: instances.instant(i.start, UTC))
        action = f"{base_url(request.scope)}view/{oid}/{cid}"
        rows = [_row(inst, action) for inst in found]
        table = (
            (
                "<table><tr><th>When</th><th>Subject</th><th>Location</th><th>Type</th>"
                "<th>Change</th></tr>" + "".join(rows) + "</table>"
            )
            if rows
            else "<p class='muted'>No events.</p>"
        )
        zones = [e.start_tz for e in state.events_in(cid) if e.start_tz]
        owner = state.users[oid]
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        problem = request.query_params.get("error")
        notice = f"<p class='error'>{html.escape(problem)}</p>" if problem else ""
        return page(
            f"{owner.name} - {cal.name}",
            f"<p><a href='{html.escape(base_url(request.scope))}view/'>All calendars</a>"
            f" · rendered {stamp} UTC</p>{notice}{add_form(action, zones[-1] if zones else 'UTC')}"
            f"{table}",
        )

    return [
        Route("/view/", index),
        Route("/view", index),
        Route("/view/{oid}/{cid}", calendar),
        *edit_routes(state),
    ]
