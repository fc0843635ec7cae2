"""A small HTML view of each emulated calendar, for the demo (/view/...): events at their wall
time in their own zone, with plain forms to add, move and delete them (``view_edit``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .context import Context, base_url
from .eventtime import zone
from .view_edit import edit_routes

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#202124}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dadce0;"
    "padding:.4rem .6rem;text-align:left;vertical-align:top}th{background:#f1f3f4}"
    ".cancelled{color:#80868b;text-decoration:line-through}code{font-size:.85em}"
    ".muted{color:#80868b}form.inline{display:inline}fieldset{margin:1rem 0;"
    "border:1px solid #dadce0}label{margin-right:.6rem}.error{color:#c5221f}"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def when(res: dict[str, Any], calendar_zone: str) -> str:
    """An event's time as its owner reads it: wall time in the event's zone (else the
    calendar's), with the zone named; all-day events as their dates."""
    start, end = res.get("start") or {}, res.get("end") or {}
    if "date" in start:
        first = date.fromisoformat(start["date"])
        last = date.fromisoformat(end.get("date", start["date"])) - timedelta(days=1)
        days = first.isoformat() if last <= first else f"{first} to {last}"
        return f"{days} (all day)"
    if "dateTime" not in start:
        return ""
    name = start.get("timeZone") or calendar_zone
    tz = zone(name) or ZoneInfo("UTC")
    begins = datetime.fromisoformat(start["dateTime"]).astimezone(tz)
    ends = datetime.fromisoformat(end.get("dateTime", start["dateTime"])).astimezone(tz)
    until = f"{ends:%H:%M}" if ends.date() == begins.date() else f"{ends:%a %Y-%m-%d %H:%M}"
    return f"{begins:%a %Y-%m-%d %H:%M}-{until} ({name})"


def _sort_key(res: dict[str, Any]) -> str:
    start = res.get("start") or {}
    if "dateTime" in start:
        return datetime.fromisoformat(start["dateTime"]).astimezone(ZoneInfo("UTC")).isoformat()
    return str(start.get("date", ""))


def _actions(res: dict[str, Any], action: str, calendar_zone: str) -> str:
    if res["status"] == "cancelled":
        return ""
    start = res.get("start") or {}
    target = escape(res["id"])
    clock = ""
    day = start.get("date", "")
    if "dateTime" in start:
        tz = zone(start.get("timeZone") or calendar_zone) or ZoneInfo("UTC")
        local = datetime.fromisoformat(start["dateTime"]).astimezone(tz)
        day = local.date().isoformat()
        clock = (
            f"<input name='time' type='time' required value='{local:%H:%M}' aria-label='new time'>"
        )
    move = (
        f"<form class='inline' method='post' action='{escape(action)}/move'>"
        f"<input type='hidden' name='id' value='{target}'>"
        f"<input name='date' type='date' required value='{escape(day)}' aria-label='new date'>"
        f"{clock}<button>Move</button></form>"
    )
    remove = (
        f"<form class='inline' method='post' action='{escape(action)}/delete'>"
        f"<input type='hidden' name='id' value='{target}'><button>Delete</button></form>"
    )
    return f"{move} {remove}"


def _add_form(action: str, calendar_zone: str) -> str:
    return (
        "<fieldset><legend>Add an event (as the owner would in Google Calendar)</legend>"
        f"<form method='post' action='{escape(action)}/add'>"
        "<label>Title <input name='summary' required></label>"
        "<label>Date <input name='date' type='date' required></label>"
        "<label>Start <input name='start' type='time' value='09:00'></label>"
        "<label>End <input name='end' type='time' value='10:00'></label>"
        "<label>All day <input name='all_day' type='checkbox' value='1'></label>"
        f"<label>Time zone <input name='zone' value='{escape(calendar_zone)}'></label>"
        "<label>Location <input name='location'></label>"
        "<button>Add</button></form></fieldset>"
    )


def routes(ctx: Context) -> list[Route]:
    async def index(request: Request) -> Response:
        base = base_url(request)
        rows = []
        for account in ctx.state.accounts.values():
            for cal_id in account.calendars:
                cal = ctx.state.calendars[cal_id]
                live = sum(1 for e in cal.events.values() if e.resource["status"] != "cancelled")
                link = f"{base}/view/{quote(cal_id, safe='')}"
                rows.append(
                    f'<tr><td>{escape(account.email)}</td><td><a href="{escape(link)}">'
                    f"{escape(cal.summary)}</a></td><td>{escape(cal.roles[account.email])}</td>"
                    f"<td>{live}</td></tr>"
                )
        table = "<tr><th>Account</th><th>Calendar</th><th>Role</th><th>Events</th></tr>"
        return _page(
            "Google calendars (emulated)",
            f"<h1>Google calendars (emulated)</h1><table>{table}{''.join(rows)}</table>",
        )

    async def calendar(request: Request) -> Response:
        cal = ctx.state.calendars.get(request.path_params["calendarId"])
        if cal is None:
            return HTMLResponse("<h1>Unknown calendar</h1>", status_code=404)
        action = f"{base_url(request)}/view/{quote(cal.id, safe='')}"
        rows = []
        for stored in sorted(cal.events.values(), key=lambda s: _sort_key(s.resource)):
            res = stored.resource
            props = res.get("extendedProperties", {}).get("private", {})
            tag = ", ".join(f"{k}={v}" for k, v in props.items())
            rows.append(
                f'<tr id="{escape(res["id"])}" class="{escape(res["status"])}">'
                f"<td>{escape(res.get('summary', '(no title)'))}</td>"
                f"<td>{escape(when(res, cal.time_zone))}</td>"
                f"<td>{escape(res['status'])}</td>"
                f"<td><code>{escape(' '.join(res.get('recurrence', [])))}</code></td>"
                f"<td>{_actions(res, action, cal.time_zone)}</td>"
                f"<td class='muted'><code>{escape(tag)}</code><br><code>{escape(res['id'])}"
                "</code></td></tr>"
            )
        head = (
            "<tr><th>Summary</th><th>When</th><th>Status</th><th>Recurrence</th>"
            "<th>Change</th><th>Private properties, id</th></tr>"
        )
        back = escape(base_url(request) + "/view/")
        problem = request.query_params.get("error")
        notice = f"<p class='error'>{escape(problem)}</p>" if problem else ""
        return _page(
            cal.summary,
            f'<p><a href="{back}">All calendars</a></p><h1>{escape(cal.summary)}</h1>'
            f"<p>{escape(cal.id)} &middot; {escape(cal.time_zone)}</p>{notice}"
            f"{_add_form(action, cal.time_zone)}<table>{head}{''.join(rows)}</table>",
        )

    return [
        Route("/view/", index, methods=["GET"]),
        Route("/view", index, methods=["GET"]),
        Route("/view/{calendarId}", calendar, methods=["GET"]),
        *edit_routes(ctx),
    ]
