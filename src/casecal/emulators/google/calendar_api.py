"""Calendar API v3 routes: calendarList, calendars.get, events CRUD/list/instances/watch and
channels.stop, behind bearer-token auth, scope checks and an optional per-user rate budget."""

from __future__ import annotations

import copy
import secrets
from typing import Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import listing, meetings
from .context import Context, base_url, json_body
from .errors import ApiError, invalid, unauthenticated
from .query import Query
from .state import ROLES, Calendar
from .tokens import AUTH, Token

C = AUTH + "calendar"
READ = {C, C + ".readonly", C + ".events", C + ".events.readonly"}
READ_OWNED = {C + ".events.owned", C + ".events.owned.readonly"}
WRITE = {C, C + ".events"}
LIST = {C, C + ".readonly", C + ".calendarlist", C + ".calendarlist.readonly"}
WRITE_PARAMS = {
    "sendUpdates", "sendNotifications", "conferenceDataVersion", "maxAttendees",
    "supportsAttachments", "alwaysIncludeEmail",
}  # fmt: skip
INSUFFICIENT = "Request had insufficient authentication scopes."


def bearer_token(ctx: Context, headers: Any) -> Token | None:
    header = headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return ctx.oauth.live(header[7:].strip(), refresh=False)


def routes(ctx: Context) -> list[Route]:
    def auth(request: Request, scopes: set[str], owned: set[str] | None = None) -> Token:
        token = bearer_token(ctx, request.headers)
        if token is None:
            raise unauthenticated()
        if not (set(token.scopes) & (scopes | (owned or set()))):
            raise ApiError(403, "insufficientPermissions", INSUFFICIENT)
        _spend_budget(token.email)
        return token

    def _spend_budget(email: str) -> None:
        budget = ctx.budgets.get(email)
        if budget is None:
            return
        now = ctx.clock.now()
        budget.hits = [t for t in budget.hits if t > now - budget.window]
        if len(budget.hits) >= budget.limit:
            raise ApiError(403, "userRateLimitExceeded", "Rate Limit Exceeded")
        budget.hits.append(now)

    def calendar(request: Request, token: Token, write: bool = False) -> Calendar:
        cal = ctx.state.calendar_for(token.email, request.path_params["calendarId"], write=write)
        needs_owner = not (set(token.scopes) & (WRITE if write else READ | WRITE))
        if needs_owner and cal.roles[token.email] != "owner":
            raise ApiError(403, "insufficientPermissions", INSUFFICIENT)
        return cal

    def present(request: Request, cal: Calendar, res: dict[str, Any]) -> dict[str, Any]:
        link = f"{base_url(request)}/view/{quote(cal.id, safe='')}?eid={res['id']}"
        return {**res, "htmlLink": link}

    def query(request: Request, allowed: set[str], repeatable: set[str] | None = None) -> Query:
        q = Query(request.query_params.multi_items(), allowed, repeatable or set())
        if q.text("sendUpdates") not in (None, "all", "externalOnly", "none"):
            raise invalid("Invalid sendUpdates value.", location="sendUpdates")
        return q

    def changed(body: Any, status: int = 200) -> Response:
        task = BackgroundTask(ctx.notifier.flush)
        if status == 204:
            return Response(status_code=204, background=task)
        return JSONResponse(body, status_code=status, background=task)

    async def calendar_list(request: Request) -> Response:
        token = auth(request, LIST)
        q = query(
            request, {"maxResults", "pageToken", "minAccessRole", "showDeleted", "showHidden"}
        )
        size = q.integer("maxResults", 100, 1, 250)
        minimum = q.text("minAccessRole") or "freeBusyReader"
        if minimum not in ROLES:
            raise invalid(f"Invalid minAccessRole: {minimum}", location="minAccessRole")
        account = ctx.state.accounts[token.email]
        entries = [
            _entry(ctx.state.calendars[c], token.email)
            for c in account.calendars
            if ROLES.index(ctx.state.calendars[c].roles[token.email]) >= ROLES.index(minimum)
        ]
        start = _page_offset(q.text("pageToken"))
        body: dict[str, Any] = {"kind": "calendar#calendarList", "etag": '"cl"'}
        body["items"] = entries[start : start + size]
        if start + size < len(entries):
            body["nextPageToken"] = f"o{start + size}.{secrets.token_hex(4)}"
        return JSONResponse(body)

    async def calendar_list_get(request: Request) -> Response:
        token = auth(request, LIST)
        query(request, set())
        cal = ctx.state.calendar_for(token.email, request.path_params["calendarId"])
        return JSONResponse(_entry(cal, token.email))

    async def calendars_get(request: Request) -> Response:
        token = auth(request, LIST | READ, READ_OWNED)
        query(request, set())
        cal = calendar(request, token)
        body = {"kind": "calendar#calendar", "etag": f'"c{cal.seq}"', "id": cal.id}
        return JSONResponse({**body, "summary": cal.summary, "timeZone": cal.time_zone})

    async def events_list(request: Request) -> Response:
        token = auth(request, READ, READ_OWNED)
        q = query(request, listing.LIST_PARAMS, listing.REPEATABLE)
        cal = calendar(request, token)
        body = listing.list_events(ctx.state, ctx.cursors, cal, q)
        body["accessRole"] = cal.roles[token.email]
        body["items"] = [
            i if i["status"] == "cancelled" else present(request, cal, i) for i in body["items"]
        ]
        return JSONResponse(body)

    def mail(q: Query, cal: Calendar, before: Any, after: Any) -> None:
        how = meetings.mode(q.text("sendUpdates"), q.text("sendNotifications"))
        state = ctx.state
        meetings.record(state.sent_messages, state.clock, cal.id, before, after, how)

    async def events_insert(request: Request) -> Response:
        token = auth(request, WRITE, {C + ".events.owned"})
        q = query(request, WRITE_PARAMS)
        cal = calendar(request, token, write=True)
        resource = ctx.state.insert(cal, await json_body(request), token.email)
        mail(q, cal, None, resource)
        return changed(present(request, cal, resource))

    async def events_get(request: Request) -> Response:
        token = auth(request, READ, READ_OWNED)
        query(request, {"alwaysIncludeEmail", "maxAttendees", "timeZone"})
        cal = calendar(request, token)
        resource = ctx.state.get(cal, request.path_params["eventId"])
        if_none = request.headers.get("if-none-match")
        if if_none is not None and resource["etag"] in [t.strip() for t in if_none.split(",")]:
            return Response(status_code=304, headers={"ETag": resource["etag"]})
        return JSONResponse(present(request, cal, resource))

    async def events_write(request: Request) -> Response:
        token = auth(request, WRITE, {C + ".events.owned"})
        q = query(request, WRITE_PARAMS)
        cal = calendar(request, token, write=True)
        before = copy.deepcopy(ctx.state.get(cal, request.path_params["eventId"]))
        resource = ctx.state.write(
            cal,
            request.path_params["eventId"],
            await json_body(request),
            patch=request.method == "PATCH",
            if_match=request.headers.get("if-match"),
        )
        mail(q, cal, before, resource)
        return changed(present(request, cal, resource))

    async def events_delete(request: Request) -> Response:
        token = auth(request, WRITE, {C + ".events.owned"})
        q = query(request, {"sendUpdates", "sendNotifications"})
        cal = calendar(request, token, write=True)
        before = copy.deepcopy(ctx.state.get(cal, request.path_params["eventId"]))
        ctx.state.delete(cal, request.path_params["eventId"], request.headers.get("if-match"))
        mail(q, cal, before, None)
        return changed(None, 204)

    async def events_instances(request: Request) -> Response:
        token = auth(request, READ, READ_OWNED)
        params = {"alwaysIncludeEmail", "maxAttendees", "maxResults", "originalStart",
                  "pageToken", "showDeleted", "timeMax", "timeMin", "timeZone"}  # fmt: skip
        q = query(request, params)
        cal = calendar(request, token)
        body = listing.list_instances(ctx.state, cal, request.path_params["eventId"], q)
        body["items"] = [
            i if i["status"] == "cancelled" else present(request, cal, i) for i in body["items"]
        ]
        return JSONResponse(body)

    async def events_watch(request: Request) -> Response:
        token = auth(request, READ, READ_OWNED)
        query(request, listing.LIST_PARAMS, listing.REPEATABLE)
        cal = calendar(request, token)
        cal_part = quote(request.path_params["calendarId"], safe="@")
        uri = f"{base_url(request)}/calendar/v3/calendars/{cal_part}/events?alt=json"
        channel = ctx.notifier.watch(
            await json_body(request), cal.id, cal.resource_id, uri, token.email
        )
        return changed(ctx.notifier.describe(channel))

    async def channels_stop(request: Request) -> Response:
        token = auth(request, READ | LIST, READ_OWNED)
        query(request, set())
        ctx.notifier.stop(await json_body(request), token.email)
        return Response(status_code=204)

    cal_path = "/calendar/v3/calendars/{calendarId}"
    return [
        Route("/calendar/v3/users/me/calendarList", calendar_list, methods=["GET"]),
        Route(
            "/calendar/v3/users/me/calendarList/{calendarId}", calendar_list_get, methods=["GET"]
        ),
        Route("/calendar/v3/channels/stop", channels_stop, methods=["POST"]),
        Route(cal_path + "/events/watch", events_watch, methods=["POST"]),
        Route(cal_path + "/events/{eventId}/instances", events_instances, methods=["GET"]),
        Route(cal_path + "/events/{eventId}", events_get, methods=["GET"]),
        Route(cal_path + "/events/{eventId}", events_write, methods=["PUT", "PATCH"]),
        Route(cal_path + "/events/{eventId}", events_delete, methods=["DELETE"]),
        Route(cal_path + "/events", events_list, methods=["GET"]),
        Route(cal_path + "/events", events_insert, methods=["POST"]),
        Route(cal_path, calendars_get, methods=["GET"]),
    ]


def _entry(cal: Calendar, email: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": f'"e{cal.seq}"',
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "accessRole": cal.roles[email],
        "defaultReminders": [],
        "selected": True,
    }
    if cal.id == email:
        entry["primary"] = True
    return entry


def _page_offset(token: str | None) -> int:
    if token is None:
        return 0
    head = token.split(".")[0]
    if not head.startswith("o") or not head[1:].isdigit():
        raise invalid("Invalid page token value.", location="pageToken")
    return int(head[1:])
