"""A small HTML view of every emulated calendar (for the demo): /view/ lists the users and
their calendars, /view/{oid}/{calendar id} shows the events of one calendar."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from casecal.emulators.microsoft import instances
from casecal.emulators.microsoft.state import MicrosoftState
from casecal.emulators.microsoft.urls import base_url

STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
    "padding:.3rem .5rem;text-align:left}th{background:#f3f3f3}"
    ".muted{color:#777}</style>"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title>{STYLE}<h1>{html.escape(title)}</h1>{body}"
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
        return _page("Microsoft 365 emulator", table)

    async def calendar(request: Request) -> Response:
        oid, cid = request.path_params["oid"], request.path_params["cid"]
        cal = state.calendars.get(cid)
        if cal is None or cal.owner_oid != oid:
            return HTMLResponse("<p>No such calendar.</p>", status_code=404)
        now = state.clock.now()
        lo, hi = now - timedelta(days=365), now + timedelta(days=365)
        found = []
        for event in state.events_in(cid):
            found.extend(instances.view_instances(event, lo, hi, UTC))
        found.sort(key=lambda i: instances.instant(i.start, UTC))
        rows = []
        for inst in found:
            data = {**(inst.master.props if inst.master else {}), **inst.event.props}
            start = (
                inst.start.strftime("%Y-%m-%d %H:%M UTC")
                if isinstance(inst.start, datetime)
                else f"{inst.start.isoformat()} (all day)"
            )
            location = (data.get("location") or {}).get("displayName", "")
            subject = html.escape(str(data.get("subject") or ""))
            rows.append(
                f"<tr><td>{html.escape(start)}</td><td>{subject}</td>"
                f"<td>{html.escape(location)}</td>"
                f"<td class='muted'>{html.escape(inst.kind)}</td></tr>"
            )
        owner = state.users[oid]
        table = (
            (
                "<table><tr><th>Start</th><th>Subject</th><th>Location</th><th>Type</th></tr>"
                + "".join(rows)
                + "</table>"
            )
            if rows
            else "<p class='muted'>No events.</p>"
        )
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        return _page(
            f"{owner.name} - {cal.name}",
            f"<p><a href='{html.escape(base_url(request.scope))}view/'>All calendars</a>"
            f" · rendered {stamp} UTC</p>{table}",
        )

    return [Route("/view/", index), Route("/view", index), Route("/view/{oid}/{cid}", calendar)]
