"""Graph handlers for the signed-in user, calendars and events: /me, /me/calendars, events
CRUD (transactionId, If-Match, extended properties), /instances and calendarView."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from casecal.emulators.microsoft import instances, mutations, query
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.graph import (
    READ_SCOPES,
    USER_SCOPES,
    GraphRequest,
    GraphResponse,
    GraphRouter,
)
from casecal.emulators.microsoft.instances import Instance
from casecal.emulators.microsoft.render import View, render
from casecal.emulators.microsoft.state import Calendar, MicrosoftState, StoredEvent
from casecal.emulators.microsoft.tz import parse_window, resolve_zone

CAL = r"(?:/calendar|/calendars/(?P<cid>[^/]+))"


def self_link(req: GraphRequest, params: dict[str, str]) -> str:
    path = req.owner_segment + req.path.removeprefix("/me")
    return f"{req.base}{req.version}/{path}?{urlencode(params, safe='$')}"


def context(req: GraphRequest, suffix: str) -> str:
    assert req.user is not None
    return f"{req.base}{req.version}/$metadata#users('{req.user.oid}')/{suffix}"


def calendar_for(state: MicrosoftState, req: GraphRequest, match: re.Match[str]) -> Calendar:
    assert req.user is not None
    cid = match.groupdict().get("cid")
    calendar = state.calendars.get(cid or req.user.default_calendar_id)
    if calendar is None or calendar.owner_oid != req.user.oid:
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )
    return calendar


def calendar_json(state: MicrosoftState, calendar: Calendar) -> dict[str, Any]:
    owner = state.users[calendar.owner_oid]
    return {
        "@odata.etag": f'W/"{calendar.change_key}"',
        "id": calendar.id,
        "name": calendar.name,
        "color": calendar.color,
        "hexColor": "",
        "isDefaultCalendar": calendar.is_default,
        "changeKey": calendar.change_key,
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": True,
        "isRemovable": not calendar.is_default,
        "isTallyingResponses": True,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": "teamsForBusiness",
        "owner": {"name": owner.name, "address": owner.mail},
    }


def event_view(req: GraphRequest, q: query.EventQuery) -> View:
    view = req.view()
    view.select, view.expand_ids = q.select, q.expand_ids
    return view


def page(
    req: GraphRequest, items: list[dict[str, Any]], q: query.EventQuery, ctx: str
) -> GraphResponse:
    chunk = items[q.skip : q.skip + q.top]
    body: dict[str, Any] = {"@odata.context": ctx, "value": chunk}
    if q.skip + q.top < len(items):
        params = {k: v for k, v in req.query.items() if k not in ("$skip", "$top")}
        params.update({"$top": str(q.top), "$skip": str(q.skip + q.top)})
        body["@odata.nextLink"] = self_link(req, params)
    return GraphResponse(200, body, preference_headers(req))


def preference_headers(req: GraphRequest) -> dict[str, str]:
    prefer = req.prefer()
    applied = (
        [f'outlook.timezone="{prefer["outlook.timezone"]}"']
        if ("outlook.timezone" in prefer)
        else []
    )
    if "idtype" in prefer:
        applied.append(f'IdType="{prefer["idtype"]}"')
    return {"Preference-Applied": ", ".join(applied)} if applied else {}


def _matches_filter(event: StoredEvent, q: query.EventQuery) -> bool:
    if q.filter_ext is None:
        return True
    stored = event.extended.get(q.filter_ext[0])
    return stored is not None and stored[1].lower() == q.filter_ext[1].lower()


def _sort(items: list[Instance], q: query.EventQuery, zone: Any) -> list[Instance]:
    if q.orderby is None:
        return items
    name, desc = q.orderby

    def key(inst: Instance) -> Any:
        if name in ("start", "end"):
            return instances.instant(getattr(inst, name), zone)
        if name == "subject":
            return str(inst.event.props.get("subject") or "")
        return inst.event.modified if name == "lastModifiedDateTime" else inst.event.created

    return sorted(items, key=key, reverse=desc)


def window(req: GraphRequest) -> tuple[datetime, datetime]:
    lo = parse_window(req.query.get("startDateTime"), "startDateTime")
    hi = parse_window(req.query.get("endDateTime"), "endDateTime")
    if hi <= lo:
        raise GraphError(
            400, "ErrorInvalidParameter", "endDateTime must be later than startDateTime."
        )
    return lo.astimezone(UTC), hi.astimezone(UTC)


def register(router: GraphRouter, state: MicrosoftState) -> None:
    async def me(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        user = req.user
        assert user is not None
        given, _, surname = user.name.partition(" ")
        body: dict[str, Any] = {
            "@odata.context": f"{req.base}{req.version}/$metadata#users/$entity",
            "id": user.oid,
            "userPrincipalName": user.upn,
            "mail": user.mail,
            "displayName": user.name,
            "givenName": given,
            "surname": surname,
            "businessPhones": [],
            "jobTitle": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-US",
        }
        if "$select" in req.query:
            keep = {"@odata.context", *req.query["$select"].split(",")}
            body = {k: v for k, v in body.items() if k in keep}
        return GraphResponse(200, body)

    async def list_calendars(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        assert req.user is not None
        cals = [calendar_json(state, c) for c in state.calendars_of(req.user.oid)]
        return GraphResponse(200, {"@odata.context": context(req, "calendars"), "value": cals})

    async def get_calendar(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        body = calendar_json(state, calendar_for(state, req, m))
        return GraphResponse(200, {"@odata.context": context(req, "calendars/$entity"), **body})

    async def create_calendar(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        assert req.user is not None
        name = req.json_body().get("name")
        if not isinstance(name, str) or not name.strip():
            raise GraphError(400, "ErrorInvalidRequest", "A calendar needs a name.")
        if any(c.name.lower() == name.lower() for c in state.calendars_of(req.user.oid)):
            raise GraphError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        cid = add_calendar(state, req.user.oid, name)
        return GraphResponse(201, calendar_json(state, state.calendars[cid]))

    async def list_events(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        calendar = calendar_for(state, req, m)
        q = query.parse(req.query)
        view = event_view(req, q)
        zone = resolve_zone(view.zone)
        found = [
            Instance(None, None, e, e.start, e.end)
            for e in state.events_in(calendar.id)
            if _matches_filter(e, q)
        ]
        items = [render(state, view, i) for i in _sort(found, q, zone)]
        return page(req, items, q, context(req, "events"))

    async def create_event(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        assert req.user is not None
        calendar = calendar_for(state, req, m)
        event, _created = mutations.create(state, req.user.oid, calendar.id, req.body)
        body = render(state, req.view(), Instance(None, None, event, event.start, event.end))
        return GraphResponse(
            201, {"@odata.context": context(req, "events/$entity"), **body}, preference_headers(req)
        )

    def target_instance(target: mutations.Target) -> Instance:
        if target.key is None:
            return Instance(None, None, target.event, target.event.start, target.event.end)
        inst = instances.slot(target.event, target.key)
        if inst is None:
            raise mutations.not_found()
        return inst

    def target(req: GraphRequest, m: re.Match[str]) -> mutations.Target:
        assert req.user is not None
        found = mutations.resolve(state, req.user.oid, m.group("eid"))
        scoped = m.groupdict().get("cid") is not None or "/calendar/" in req.path
        if scoped and found.event.calendar_id != calendar_for(state, req, m).id:
            raise mutations.not_found()
        return found

    async def get_event(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        q = query.parse({k: v for k, v in req.query.items() if k in ("$select", "$expand")})
        body = render(state, event_view(req, q), target_instance(target(req, m)))
        return GraphResponse(
            200, {"@odata.context": context(req, "events/$entity"), **body}, preference_headers(req)
        )

    def if_match(req: GraphRequest) -> str | None:
        header = req.headers.get("if-match")
        if header is None and state.require_if_match:
            raise GraphError(428, "PreconditionRequired", "This request needs an If-Match header.")
        return header

    async def patch_event(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        found = target(req, m)
        mutations.update(state, found, req.body, if_match(req))
        body = render(state, req.view(), target_instance(found))
        return GraphResponse(
            200, {"@odata.context": context(req, "events/$entity"), **body}, preference_headers(req)
        )

    async def delete_event(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        mutations.delete(state, target(req, m), if_match(req))
        return GraphResponse(204)

    async def list_instances(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        found = target(req, m)
        if found.key is not None or not found.event.recurrence:
            raise GraphError(
                400, "ErrorInvalidRequest", "Instances can only be listed for a series master."
            )
        lo, hi = window(req)
        q = query.parse(req.query)
        view = event_view(req, q)
        found_instances = instances.expand(found.event, lo, hi, resolve_zone(view.zone))
        items = [render(state, view, i) for i in found_instances]
        return page(req, items, q, context(req, "events"))

    async def calendar_view(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        calendar = calendar_for(state, req, m)
        lo, hi = window(req)
        q = query.parse(req.query)
        view = event_view(req, q)
        zone = resolve_zone(view.zone)
        found: list[Instance] = []
        for event in state.events_in(calendar.id):
            if _matches_filter(event, q):
                found.extend(instances.view_instances(event, lo, hi, zone))
        found.sort(key=lambda i: instances.instant(i.start, zone))
        items = [render(state, view, i) for i in _sort(found, q, zone)]
        return page(req, items, q, context(req, "calendarView"))

    async def time_zones(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        from tzlocal.windows_tz import win_tz

        zones = [{"alias": name, "displayName": name} for name in sorted(win_tz)]
        return GraphResponse(
            200, {"@odata.context": context(req, "supportedTimeZones"), "value": zones}
        )

    evt = r"/events/(?P<eid>[^/]+)"
    router.add("GET", r"/me", me, USER_SCOPES)
    router.add(
        "GET", r"/me/outlook/supportedTimeZones(?:\(\))?", time_zones, READ_SCOPES | USER_SCOPES
    )
    router.add("GET", r"/me/calendars", list_calendars)
    router.add("POST", r"/me/calendars", create_calendar)
    router.add("GET", rf"/me{CAL}", get_calendar)
    for prefix in (r"/me", rf"/me{CAL}"):
        router.add("GET", rf"{prefix}/events", list_events)
        router.add("POST", rf"{prefix}/events", create_event)
        router.add("GET", rf"{prefix}{evt}", get_event)
        router.add("PATCH", rf"{prefix}{evt}", patch_event)
        router.add("DELETE", rf"{prefix}{evt}", delete_event)
        router.add("GET", rf"{prefix}{evt}/instances", list_instances)
        router.add("GET", rf"{prefix}/calendarView", calendar_view)


def add_calendar(state: MicrosoftState, oid: str, name: str, default: bool = False) -> str:
    cid = state.ids.graph_id("AAMkADCal")
    state.calendars[cid] = Calendar(cid, oid, name, default, state.ids.change_key())
    return cid
