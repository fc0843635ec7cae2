"""The /_emulator admin surface: everything the Python API does, over HTTP (directory, consent
policy, tokens, revocation, delta expiry, edits "as another client", faults, throttling,
lifecycle notifications, clock, request log, the meeting mail Exchange would have sent)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casecal.emulators.faults import Fault
from casecal.emulators.microsoft import mutations
from casecal.emulators.microsoft.consent import IdentityError
from casecal.emulators.microsoft.errors import GraphError

if TYPE_CHECKING:
    from casecal.emulators.microsoft.app import MicrosoftEmulator

Action = Callable[[dict[str, Any], dict[str, str]], Any]


def _endpoint(action: Action, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
            result = action(body, dict(request.path_params))
            if hasattr(result, "__await__"):
                result = await result
        except (KeyError, IndexError) as exc:
            return JSONResponse({"error": f"not found: {exc}"}, status_code=404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except IdentityError as exc:
            return JSONResponse(
                {
                    "error": exc.error,
                    "error_description": exc.description,
                    "error_codes": [exc.code],
                },
                status_code=exc.status,
            )
        except GraphError as exc:
            return JSONResponse(
                {"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status
            )
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result, status_code=status)

    return endpoint


def control_routes(emu: MicrosoftEmulator) -> list[Route]:
    state = emu.state

    def summary(_b: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {
            "tenants": [
                {
                    "id": t.id,
                    "domain": t.domain,
                    "admin_consent_required": t.admin_consent_required,
                    "admin_consented_apps": sorted(t.admin_grants),
                }
                for t in state.tenants.values()
            ],
            "users": [
                {
                    "oid": u.oid,
                    "tenant_id": u.tenant_id,
                    "upn": u.upn,
                    "name": u.name,
                    "mail": u.mail,
                    "is_admin": u.is_admin,
                    "calendars": [
                        {"id": c.id, "name": c.name, "is_default": c.is_default}
                        for c in state.calendars_of(u.oid)
                    ],
                }
                for u in state.users.values()
            ],
            "apps": [
                {"client_id": a.client_id, "redirect_uris": a.redirect_uris}
                for a in state.apps.values()
            ],
            "subscriptions": [
                {
                    "id": s.id,
                    "oid": s.oid,
                    "resource": s.resource,
                    "expires_at": s.expires_at.isoformat(),
                }
                for s in state.subscriptions.values()
            ],
            "auto_approve": state.auto_approve,
        }

    def add_fault(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        fault = emu.faults.add(Fault(**body))
        return dataclasses.asdict(fault)

    def clear_faults(_b: dict[str, Any], _p: dict[str, str]) -> None:
        emu.faults.clear()

    def log(_b: dict[str, Any], _p: dict[str, str]) -> list[dict[str, Any]]:
        return [dataclasses.asdict(e) for e in emu.log.entries]

    def clear_log(_b: dict[str, Any], _p: dict[str, str]) -> None:
        emu.log.clear()

    def settings(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        for name in ("auto_approve", "allow_http_notification_urls", "require_if_match"):
            if name in body:
                setattr(state, name, bool(body[name]))
        if "base_url" in body:
            emu.base_url = str(body["base_url"])
        return {
            "auto_approve": state.auto_approve,
            "allow_http_notification_urls": state.allow_http_notification_urls,
            "require_if_match": state.require_if_match,
        }

    def add_tenant(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {"tenant_id": emu.add_tenant(**body)}

    def policy(body: dict[str, Any], p: dict[str, str]) -> None:
        emu.set_consent_policy(p["tid"], bool(body["admin_consent_required"]))

    def admin_consent(body: dict[str, Any], p: dict[str, str]) -> None:
        emu.grant_admin_consent(p["tid"], body["client_id"])

    def add_user(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {"oid": emu.add_user(**body)}

    def add_calendar(body: dict[str, Any], p: dict[str, str]) -> dict[str, Any]:
        return {"id": emu.add_calendar(p["oid"], body["name"])}

    def register_app(body: dict[str, Any], _p: dict[str, str]) -> None:
        emu.register_app(body["client_id"], body.get("client_secret"), body["redirect_uris"])

    def tokens(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return emu.issue_tokens(body["upn"], body["client_id"], body["scopes"])

    def revoke(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {"revoked": emu.revoke(body["target"])}

    def expire_refresh(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {"expired": emu.expire_refresh_tokens(body["target"], body.get("reason", "expired"))}

    def revoke_consent(body: dict[str, Any], p: dict[str, str]) -> None:
        emu.revoke_consent(p["oid"], body["client_id"])

    def expire_delta(_b: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        return {"expired": emu.expire_delta_tokens()}

    def list_events(_b: dict[str, Any], p: dict[str, str]) -> list[dict[str, Any]]:
        return emu.events(p["oid"], p.get("cid"))

    def create_event(body: dict[str, Any], p: dict[str, str]) -> dict[str, Any]:
        return emu.create_event_as_other(p["oid"], body, p.get("cid"))

    def patch_event(body: dict[str, Any], p: dict[str, str]) -> dict[str, Any]:
        return emu.update_event_as_other(p["oid"], p["eid"], body)

    def delete_event(_b: dict[str, Any], p: dict[str, str]) -> None:
        emu.delete_event_as_other(p["oid"], p["eid"])

    def move_event(body: dict[str, Any], p: dict[str, str]) -> dict[str, Any]:
        return emu.move_event(p["oid"], p["eid"], body["calendar_id"])

    async def bulk(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        """Many mailboxes in one request, each its own tenant and user with its default
        calendar, tokens and events: ``{"app": {client_id, client_secret, redirect_uris}?,
        "accounts": [{"domain", "upn", "name"?, "client_id"?, "scopes"?, "events": [body,
        ...]?}]}``. Events are created as the mailbox's own client would (no meeting mail
        for events without attendees). Answers ``{"accounts": [{"tenant_id", "oid", "upn",
        "calendar_id", "tokens", "events"}]}`` (``tokens`` only with ``client_id`` and
        ``scopes``)."""
        if "app" in body:
            a = body["app"]
            emu.register_app(a["client_id"], a.get("client_secret"), a["redirect_uris"])
        made: list[dict[str, Any]] = []
        for spec in body.get("accounts") or []:
            tenant = emu.add_tenant(domain=spec["domain"])
            oid = emu.add_user(tenant, spec["upn"], spec.get("name", ""))
            tokens = None
            if spec.get("client_id") and spec.get("scopes"):
                tokens = emu.issue_tokens(spec["upn"], spec["client_id"], spec["scopes"])
            calendar_id = state.users[oid].default_calendar_id
            created = [
                mutations.create(state, oid, calendar_id, e)[0] for e in spec.get("events") or []
            ]
            made.append({
                "tenant_id": tenant, "oid": oid, "upn": spec["upn"],
                "calendar_id": calendar_id, "tokens": tokens, "events": [
                    {"id": e.rest_id, "immutable_id": e.immutable_id,
                     "etag": f'W/"{e.change_key}"'}
                    for e in created
                ],
            })  # fmt: skip
        await emu.flush_notifications()
        return {"accounts": made}

    def throttling(body: dict[str, Any], p: dict[str, str]) -> None:
        emu.set_throttling(p["oid"], **body)

    def lifecycle(body: dict[str, Any], p: dict[str, str]) -> None:
        emu.send_lifecycle(p["sid"], body["event"])

    async def flush(_b: dict[str, Any], _p: dict[str, str]) -> list[dict[str, Any]]:
        return [dataclasses.asdict(d) for d in await emu.flush_notifications()]

    def sent(_b: dict[str, Any], _p: dict[str, str]) -> list[dict[str, Any]]:
        return [dataclasses.asdict(m) for m in state.sent_messages]

    def clear_sent(_b: dict[str, Any], _p: dict[str, str]) -> None:
        state.sent_messages.clear()

    def advance(body: dict[str, Any], _p: dict[str, str]) -> dict[str, Any]:
        state.clock.advance(float(body["seconds"]))
        return {"now": state.clock.now().isoformat()}

    e = "/_emulator"
    ev = e + "/users/{oid}/events"
    return [
        Route(e + "/state", _endpoint(summary)),
        Route(e + "/settings", _endpoint(settings), methods=["POST"]),
        Route(e + "/faults", _endpoint(add_fault, 201), methods=["POST"]),
        Route(e + "/faults", _endpoint(clear_faults), methods=["DELETE"]),
        Route(e + "/log", _endpoint(log)),
        Route(e + "/log", _endpoint(clear_log), methods=["DELETE"]),
        Route(e + "/tenants", _endpoint(add_tenant, 201), methods=["POST"]),
        Route(e + "/tenants/{tid}/consent-policy", _endpoint(policy), methods=["POST"]),
        Route(e + "/tenants/{tid}/admin-consent", _endpoint(admin_consent), methods=["POST"]),
        Route(e + "/users", _endpoint(add_user, 201), methods=["POST"]),
        Route(e + "/bulk", _endpoint(bulk, 201), methods=["POST"]),
        Route(e + "/users/{oid}/calendars", _endpoint(add_calendar, 201), methods=["POST"]),
        Route(e + "/users/{oid}/revoke-consent", _endpoint(revoke_consent), methods=["POST"]),
        Route(e + "/users/{oid}/throttling", _endpoint(throttling), methods=["POST"]),
        Route(e + "/apps", _endpoint(register_app), methods=["POST"]),
        Route(e + "/tokens", _endpoint(tokens), methods=["POST"]),
        Route(e + "/revoke", _endpoint(revoke), methods=["POST"]),
        Route(e + "/expire-refresh-tokens", _endpoint(expire_refresh), methods=["POST"]),
        Route(e + "/expire-delta-tokens", _endpoint(expire_delta), methods=["POST"]),
        Route(ev, _endpoint(list_events)),
        Route(e + "/users/{oid}/calendars/{cid}/events", _endpoint(list_events)),
        Route(ev, _endpoint(create_event, 201), methods=["POST"]),
        Route(
            e + "/users/{oid}/calendars/{cid}/events",
            _endpoint(create_event, 201),
            methods=["POST"],
        ),
        Route(ev + "/{eid}", _endpoint(patch_event), methods=["PATCH"]),
        Route(ev + "/{eid}", _endpoint(delete_event), methods=["DELETE"]),
        Route(ev + "/{eid}/move", _endpoint(move_event), methods=["POST"]),
        Route(e + "/subscriptions/{sid}/lifecycle", _endpoint(lifecycle), methods=["POST"]),
        Route(e + "/notifications/flush", _endpoint(flush), methods=["POST"]),
        Route(e + "/clock/advance", _endpoint(advance), methods=["POST"]),
        Route(e + "/sent-messages", _endpoint(sent)),
        Route(e + "/sent-messages", _endpoint(clear_sent), methods=["DELETE"]),
    ]
