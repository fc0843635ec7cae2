"""A small read-only HTML view of each emulated calendar, for the demo (/view/...)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .context import Context, base_url

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#202124}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dadce0;"
    "padding:.4rem .6rem;text-align:left;vertical-align:top}th{background:#f1f3f4}"
    ".cancelled{color:#80868b;text-decoration:line-through}code{font-size:.85em}"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _when(value: dict[str, Any]) -> str:
    text = value.get("dateTime") or value.get("date", "")
    zone = value.get("timeZone")
    return f"{text} ({zone})" if zone else str(text)


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
        rows = []
        events = sorted(cal.events.values(), key=lambda s: str(_when(s.resource["start"])))
        for stored in events:
            res = stored.resource
            props = res.get("extendedProperties", {}).get("private", {})
            tag = ", ".join(f"{k}={v}" for k, v in props.items())
            rows.append(
                f'<tr id="{escape(res["id"])}" class="{escape(res["status"])}">'
                f"<td>{escape(res.get('summary', '(no title)'))}</td>"
                f"<td>{escape(_when(res['start']))}</td><td>{escape(_when(res['end']))}</td>"
                f"<td>{escape(res['status'])}</td>"
                f"<td><code>{escape(' '.join(res.get('recurrence', [])))}</code></td>"
                f"<td><code>{escape(tag)}</code></td><td><code>{escape(res['id'])}</code></td></tr>"
            )
        head = (
            "<tr><th>Summary</th><th>Start</th><th>End</th><th>Status</th><th>Recurrence</th>"
            "<th>Private properties</th><th>Id</th></tr>"
        )
        back = escape(base_url(request) + "/view/")
        return _page(
            cal.summary,
            f'<p><a href="{back}">All calendars</a></p><h1>{escape(cal.summary)}</h1>'
            f"<p>{escape(cal.id)} &middot; {escape(cal.time_zone)}</p>"
            f"<table>{head}{''.join(rows)}</table>",
        )

    return [
        Route("/view/", index, methods=["GET"]),
        Route("/view", index, methods=["GET"]),
        Route("/view/{calendarId}", calendar, methods=["GET"]),
    ]
