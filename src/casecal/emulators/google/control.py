"""The /_emulator admin surface: everything the Python API does, over HTTP (accounts, clients,
tokens, revocation, cursor expiry, clock, faults, rate budgets, edits by another client, the
request log and push deliveries). Never faulted, never authenticated."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..faults import Fault
from .context import json_body
from .errors import ApiError, invalid

if TYPE_CHECKING:
    from .app import GoogleEmulator

FAULT_FIELDS = {f.name for f in fields(Fault) if f.init}


def routes(emu: GoogleEmulator) -> list[Route]:
    async def body_of(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise invalid("Expected a JSON object.")
        return body

    def need(body: dict[str, Any], *names: str) -> list[Any]:
        missing = [n for n in names if n not in body]
        if missing:
            raise ApiError(400, "required", f"Missing field(s): {', '.join(missing)}")
        return [body[n] for n in names]

    async def accounts(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([
                {"email": a.email, "name": a.name, "sub": a.sub, "calendars": a.calendars}
                for a in emu.state.accounts.values()
            ])  # fmt: skip
        body = await body_of(request)
        (email,) = need(body, "email")
        account = emu.add_account(email, name=body.get("name", ""), sub=body.get("sub"))
        return JSONResponse({"email": account.email, "sub": account.sub}, status_code=201)

    async def calendars(request: Request) -> Response:
        body = await body_of(request)
        email, summary = need(body, "email", "summary")
        cal_id = emu.add_calendar(
            email, summary, body.get("access_role", "owner"), body.get("time_zone", "UTC")
        )
        return JSONResponse({"id": cal_id}, status_code=201)

    async def clients(request: Request) -> Response:
        body = await body_of(request)
        cid, secret, uris = need(body, "client_id", "client_secret", "redirect_uris")
        emu.register_client(cid, secret, uris, testing=bool(body.get("testing", False)))
        return JSONResponse({"client_id": cid}, status_code=201)

    async def tokens(request: Request) -> Response:
        body = await body_of(request)
        email, cid, scopes = need(body, "email", "client_id", "scopes")
        return JSONResponse(emu.issue_tokens(email, cid, scopes))

    async def revoke(request: Request) -> Response:
        (token,) = need(await body_of(request), "token")
        return JSONResponse({"revoked": emu.revoke(token)})

    async def expire_sync(request: Request) -> Response:
        emu.expire_sync_tokens((await body_of(request)).get("calendar_id"))
        return Response(status_code=204)

    async def expire_access(request: Request) -> Response:
        emu.expire_access_tokens((await body_of(request)).get("email"))
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            (seconds,) = need(await body_of(request), "seconds")
            emu.advance(float(seconds))
        return JSONResponse({"now": emu.clock.now(), "offset": emu.clock.offset})

    async def settings(request: Request) -> Response:
        body = await body_of(request)
        if "auto_approve" in body:
            emu.auto_approve = bool(body["auto_approve"])
        if "declined_scopes" in body:
            emu.declined_scopes = set(body["declined_scopes"])
        if "allow_http_push" in body:
            emu.notifier.allow_http = bool(body["allow_http_push"])
        return JSONResponse({
            "auto_approve": emu.auto_approve,
            "declined_scopes": sorted(emu.declined_scopes),
            "allow_http_push": emu.notifier.allow_http,
        })  # fmt: skip

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            emu.faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            body = await body_of(request)
            unknown = set(body) - FAULT_FIELDS
            if unknown:
                raise invalid(f"Unknown fault field(s): {sorted(unknown)}")
            try:
                emu.faults.add(Fault(**body))
            except (TypeError, ValueError) as exc:
                raise invalid(str(exc)) from None
        return JSONResponse([asdict(f) for f in emu.faults.faults])

    async def budget(request: Request) -> Response:
        body = await body_of(request)
        (email,) = need(body, "email")
        limit = body.get("limit")
        emu.set_rate_budget(
            email, None if limit is None else int(limit), float(body.get("window", 60))
        )
        return Response(status_code=204)

    async def log(request: Request) -> Response:
        if request.method == "DELETE":
            emu.log.clear()
            return Response(status_code=204)
        return JSONResponse([asdict(e) for e in emu.log.entries])

    async def sent(request: Request) -> Response:
        if request.method == "DELETE":
            emu.state.sent_messages.clear()
            return Response(status_code=204)
        return JSONResponse([asdict(m) for m in emu.state.sent_messages])

    async def deliveries(_request: Request) -> Response:
        return JSONResponse([asdict(d) for d in emu.notifier.deliveries])

    async def events(request: Request) -> Response:
        cal_id = request.path_params["calendarId"]
        if cal_id not in emu.state.calendars:
            raise ApiError(404, "notFound", "Not Found")
        if request.method == "GET":
            deleted = request.query_params.get("include_deleted") == "true"
            return JSONResponse(emu.events(cal_id, include_deleted=deleted))
        body = await body_of(request)
        resource = emu.client_insert(cal_id, body, actor=request.query_params.get("actor"))
        await emu.flush_notifications()
        return JSONResponse(resource, status_code=201)

    async def event(request: Request) -> Response:
        cal_id, event_id = request.path_params["calendarId"], request.path_params["eventId"]
        if cal_id not in emu.state.calendars:
            raise ApiError(404, "notFound", "Not Found")
        if request.method == "DELETE":
            emu.client_delete(cal_id, event_id)
            await emu.flush_notifications()
            return Response(status_code=204)
        body = await body_of(request)
        if request.method == "PATCH":
            resource = emu.client_patch(cal_id, event_id, body)
        else:
            resource = emu.client_update(cal_id, event_id, body)
        await emu.flush_notifications()
        return JSONResponse(resource)

    async def bulk(request: Request) -> Response:
        """Many accounts in one request, each with its primary calendar, tokens and events:
        ``{"client": {client_id, client_secret, redirect_uris}?, "accounts": [{"email",
        "name"?, "client_id"?, "scopes"?, "events": [body, ...]?}]}``. Events are inserted
        as written by the account itself (``actor``: the account, unless given). Answers
        ``{"accounts": [{"email", "sub", "calendar_id", "tokens", "events": [{"id",
        "etag"}]}]}`` (``tokens`` only when ``client_id`` and ``scopes`` are given)."""
        body = await body_of(request)
        if "client" in body:
            c = body["client"]
            emu.register_client(c["client_id"], c["client_secret"], c["redirect_uris"])
        made: list[dict[str, Any]] = []
        for spec in body.get("accounts") or []:
            (email,) = need(spec, "email")
            account = emu.add_account(email, name=spec.get("name", ""), sub=spec.get("sub"))
            tokens = None
            if spec.get("client_id") and spec.get("scopes"):
                tokens = emu.issue_tokens(email, spec["client_id"], spec["scopes"])
            actor = spec.get("actor") or email
            created = [emu.client_insert(email, e, actor=actor) for e in spec.get("events") or []]
            made.append({
                "email": account.email, "sub": account.sub, "calendar_id": email,
                "tokens": tokens, "events": [{"id": r["id"], "etag": r["etag"]} for r in created],
            })  # fmt: skip
        await emu.flush_notifications()
        return JSONResponse({"accounts": made}, status_code=201)

    async def purge(request: Request) -> Response:
        (cal_id,) = need(await body_of(request), "calendar_id")
        return JSONResponse({"purged": emu.purge_tombstones(cal_id)})

    p = "/_emulator"
    return [
        Route(p + "/accounts", accounts, methods=["GET", "POST"]),
        Route(p + "/bulk", bulk, methods=["POST"]),
        Route(p + "/calendars", calendars, methods=["POST"]),
        Route(p + "/clients", clients, methods=["POST"]),
        Route(p + "/tokens", tokens, methods=["POST"]),
        Route(p + "/revoke", revoke, methods=["POST"]),
        Route(p + "/expire-sync-tokens", expire_sync, methods=["POST"]),
        Route(p + "/expire-access-tokens", expire_access, methods=["POST"]),
        Route(p + "/clock", clock, methods=["GET", "POST"]),
        Route(p + "/settings", settings, methods=["GET", "POST"]),
        Route(p + "/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(p + "/rate-budget", budget, methods=["POST"]),
        Route(p + "/log", log, methods=["GET", "DELETE"]),
        Route(p + "/deliveries", deliveries, methods=["GET"]),
        Route(p + "/sent-messages", sent, methods=["GET", "DELETE"]),
        Route(p + "/purge-tombstones", purge, methods=["POST"]),
        Route(p + "/calendars/{calendarId}/events", events, methods=["GET", "POST"]),
        Route(
            p + "/calendars/{calendarId}/events/{eventId}",
            event,
            methods=["PATCH", "PUT", "DELETE"],
        ),
    ]
