"""The calendar view's forms: add, move and delete an event as its owner would in Google
Calendar. Plain HTML POSTs (no script) through the same state paths as the Calendar API, so
each change moves the sync token and notifies watch channels like an API write; the answer
redirects back to the calendar (with ``?error=`` when the API would refuse)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .context import Context, base_url
from .errors import ApiError, invalid
from .eventtime import duration, zone
from .state import Calendar


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _day(form: FormData) -> date:
    try:
        return date.fromisoformat(_field(form, "date"))
    except ValueError:
        raise invalid("Choose a date.") from None


def _clock(form: FormData, name: str, default: str) -> time:
    try:
        return time.fromisoformat(_field(form, name) or default)
    except ValueError:
        raise invalid(f"'{name}' is not a time.") from None


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def new_event(form: FormData, cal: Calendar) -> dict[str, Any]:
    """The events.insert body the add form describes (times in the chosen zone)."""
    day, name = _day(form), _field(form, "zone") or cal.time_zone
    body: dict[str, Any] = {"summary": _field(form, "summary")}
    if _field(form, "location"):
        body["location"] = _field(form, "location")
    if _field(form, "all_day"):
        body["start"] = {"date": day.isoformat()}
        body["end"] = {"date": (day + timedelta(days=1)).isoformat()}
        return body
    start = datetime.combine(day, _clock(form, "start", "09:00"))
    end = datetime.combine(day, _clock(form, "end", "10:00"))
    body["start"] = {"dateTime": _stamp(start), "timeZone": name}
    body["end"] = {"dateTime": _stamp(end), "timeZone": name}
    return body


def moved(resource: dict[str, Any], form: FormData, cal: Calendar) -> dict[str, Any]:
    """The events.patch body that moves an event to the form's date (and time) in its own
    zone, keeping its length."""
    start, end = resource["start"], resource["end"]
    day = _day(form)
    if "date" in start:
        days = date.fromisoformat(end["date"]) - date.fromisoformat(start["date"])
        return {"start": {"date": day.isoformat()}, "end": {"date": (day + days).isoformat()}}
    name = start.get("timeZone") or cal.time_zone
    tz = zone(name) or ZoneInfo("UTC")
    was = datetime.fromisoformat(start["dateTime"]).astimezone(tz)
    local = datetime.combine(day, _clock(form, "time", f"{was:%H:%M}")).replace(tzinfo=tz)
    new_end = (local + duration(start, end)).astimezone(tz)
    return {
        "start": {"dateTime": _stamp(local), "timeZone": name},
        "end": {"dateTime": _stamp(new_end), "timeZone": name},
    }


def edit_routes(ctx: Context) -> list[Route]:
    def back(request: Request, error: str | None = None) -> Response:
        url = f"{base_url(request)}/view/{quote(request.path_params['calendarId'], safe='')}"
        if error:
            url += f"?error={quote(error)}"
        # Watch channels hear of the change as after an API write.
        return RedirectResponse(url, status_code=303, background=BackgroundTask(ctx.notifier.flush))

    async def change(request: Request) -> Response:
        cal = ctx.state.calendars.get(request.path_params["calendarId"])
        action = request.path_params["action"]
        if cal is None or action not in ("add", "move", "delete"):
            return Response("Not found.", status_code=404)
        form = await request.form()
        owner = next((e for e, role in cal.roles.items() if role == "owner"), cal.id)
        try:
            if action == "add":
                ctx.state.insert(cal, new_event(form, cal), owner)
            else:
                event_id = _field(form, "id")
                current = ctx.state.get(cal, event_id)
                if action == "move":
                    patch = moved(current, form, cal)
                    ctx.state.write(cal, event_id, patch, patch=True, if_match=None)
                else:
                    ctx.state.delete(cal, event_id, None)
        except ApiError as exc:
            return back(request, exc.message)
        return back(request)

    return [Route("/view/{calendarId}/{action}", change, methods=["POST"])]
