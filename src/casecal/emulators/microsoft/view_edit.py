"""The calendar view's forms: add, move and delete an event as its user would in Outlook.

Plain HTML POSTs (no script) that go through the same state paths as Graph writes
(``mutations``), so each change feeds delta and change notifications exactly like an API
change; the answer redirects back to the calendar (with ``?error=`` when Graph would refuse).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casecal.emulators.microsoft import instances, mutations
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.instances import Instance
from casecal.emulators.microsoft.state import MicrosoftState
from casecal.emulators.microsoft.tz import resolve_zone
from casecal.emulators.microsoft.urls import base_url

_FORMAT = "%Y-%m-%dT%H:%M:%S"


def instance_id(inst: Instance) -> str:
    """The id Graph lists an instance under: the event's, or ``<master>_<original start>``."""
    if inst.master is None or inst.key is None:
        return inst.event.immutable_id
    return f"{inst.master.immutable_id}_{instances.stamp(inst.key)}"


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _day(form: FormData) -> date:
    try:
        return date.fromisoformat(_field(form, "date"))
    except ValueError:
        raise GraphError(400, "ErrorInvalidRequest", "Choose a date.") from None


def _clock(form: FormData, name: str, default: str) -> time:
    try:
        return time.fromisoformat(_field(form, name) or default)
    except ValueError:
        raise GraphError(400, "ErrorInvalidRequest", f"'{name}' is not a time.") from None


def new_event(form: FormData) -> dict[str, Any]:
    """The Graph POST body the add form describes."""
    day, zone = _day(form), _field(form, "zone") or "UTC"
    body: dict[str, Any] = {"subject": _field(form, "subject")}
    if _field(form, "location"):
        body["location"] = {"displayName": _field(form, "location")}
    if _field(form, "all_day"):
        start, end = datetime.combine(day, time()), datetime.combine(day, time()) + timedelta(1)
        body["isAllDay"] = True
    else:
        start = datetime.combine(day, _clock(form, "start", "09:00"))
        end = datetime.combine(day, _clock(form, "end", "10:00"))
    body["start"] = {"dateTime": start.strftime(_FORMAT), "timeZone": zone}
    body["end"] = {"dateTime": end.strftime(_FORMAT), "timeZone": zone}
    return body


def moved(target: mutations.Target, form: FormData) -> dict[str, Any]:
    """The PATCH body that moves the targeted event or occurrence to the form's date (and
    time), keeping its length and the zone it was written in."""
    event = target.event
    slot = None if target.key is None else instances.slot(event, target.key)
    start, end = (slot.start, slot.end) if slot is not None else (event.start, event.end)
    name = event.start_tz or "UTC"
    day = _day(form)
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        length = timedelta(days=(end.toordinal() - start.toordinal()))
        first = datetime.combine(day, time())
        return {
            "isAllDay": True,
            "start": {"dateTime": first.strftime(_FORMAT), "timeZone": name},
            "end": {"dateTime": (first + length).strftime(_FORMAT), "timeZone": name},
        }
    zone = resolve_zone(name)
    local = datetime.combine(day, _clock(form, "time", f"{start.astimezone(zone):%H:%M}"))
    new_start = local.replace(tzinfo=zone)
    new_end = (new_start + (end - start)).astimezone(zone)
    return {
        "start": {"dateTime": local.strftime(_FORMAT), "timeZone": name},
        "end": {"dateTime": new_end.replace(tzinfo=None).strftime(_FORMAT), "timeZone": name},
    }


def edit_routes(state: MicrosoftState) -> list[Route]:
    def back(request: Request, error: str | None = None) -> Response:
        oid, cid = request.path_params["oid"], request.path_params["cid"]
        url = f"{base_url(request.scope)}view/{oid}/{cid}"
        if error:
            url += f"?error={quote(error)}"
        return RedirectResponse(url, status_code=303)

    async def change(request: Request) -> Response:
        oid, cid = request.path_params["oid"], request.path_params["cid"]
        cal = state.calendars.get(cid)
        if cal is None or cal.owner_oid != oid:
            return Response("No such calendar.", status_code=404)
        action = request.path_params["action"]
        if action not in ("add", "move", "delete"):
            return Response("Not found.", status_code=404)
        form = await request.form()
        try:
            if action == "add":
                mutations.create(state, oid, cid, new_event(form))
            else:
                target = mutations.resolve(state, oid, _field(form, "id"))
                if target.event.calendar_id != cid:
                    raise mutations.not_found()
                if action == "move":
                    mutations.update(state, target, moved(target, form), None)
                else:
                    mutations.delete(state, target, None)
        except GraphError as exc:
            return back(request, exc.message)
        return back(request)

    return [Route("/view/{oid}/{cid}/{action}", change, methods=["POST"])]
