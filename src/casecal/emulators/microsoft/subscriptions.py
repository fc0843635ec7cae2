"""Graph /subscriptions for Outlook events: create (with the validation handshake), list, get,
renew (PATCH), reauthorize and delete, under Outlook's limits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.graph import READ_SCOPES, GraphRequest, GraphResponse, GraphRouter
from casecal.emulators.microsoft.notifier import Notifier
from casecal.emulators.microsoft.state import MicrosoftState, Subscription
from casecal.emulators.microsoft.tz import utc_iso

MAX_MINUTES = 10080
MIN_MINUTES = 45
MAX_PER_MAILBOX = 1000
CHANGE_TYPES = {"created", "updated", "deleted"}
FIELDS = {
    "changeType",
    "notificationUrl",
    "lifecycleNotificationUrl",
    "resource",
    "expirationDateTime",
    "clientState",
    "includeResourceData",
    "latestSupportedTlsVersion",
    "encryptionCertificate",
    "encryptionCertificateId",
}
_RESOURCE = re.compile(
    r"^/?(?:me|users/(?P<user>[^/]+))(?:/calendar|/calendars/(?P<cid>[^/]+))?/events$",
    re.IGNORECASE,
)


def invalid(message: str, code: str = "InvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def subscription_json(req: GraphRequest, sub: Subscription) -> dict[str, Any]:
    return {
        "@odata.context": f"{req.base}{req.version}/$metadata#subscriptions/$entity",
        "id": sub.id,
        "resource": sub.resource,
        "applicationId": sub.client_id,
        "changeType": ",".join(sub.change_types),
        "clientState": sub.client_state,
        "notificationUrl": sub.notification_url,
        "lifecycleNotificationUrl": sub.lifecycle_url,
        "expirationDateTime": utc_iso(sub.expires_at),
        "creatorId": sub.oid,
        "includeResourceData": False,
        "latestSupportedTlsVersion": "v1_2",
        "notificationContentType": None,
    }


def register(router: GraphRouter, state: MicrosoftState, notifier: Notifier) -> None:
    def expiry(value: object) -> datetime:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise invalid(f"expirationDateTime '{value}' is not a valid date.") from exc
        if when.tzinfo is None:
            raise invalid("expirationDateTime must carry a time zone offset (UTC 'Z').")
        now = state.clock.now()
        if when <= now:
            raise invalid("Subscription expiration must be in the future.", "ExtensionError")
        if when > now + timedelta(minutes=MAX_MINUTES):
            raise invalid(
                "Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription "
                f"expiration can only be {MAX_MINUTES} minutes in the future.]",
                "ExtensionError",
            )
        return max(when, now + timedelta(minutes=MIN_MINUTES))

    def check_url(url: object, name: str) -> str:
        if not isinstance(url, str) or not re.match(r"^https?://[^/]", url):
            raise invalid(f"{name} must be an absolute URL.")
        if url.startswith("http://") and not state.allow_http_notification_urls:
            raise invalid(f"{name} must use https.")
        return url

    async def handshake(url: str) -> None:
        failure = await notifier.validate(url)
        if failure is not None:
            raise invalid(
                "Subscription validation request failed. Notification endpoint must "
                f"respond with 200 OK to validation request: {failure}."
            )

    def owned(req: GraphRequest, sub_id: str) -> Subscription:
        assert req.caller is not None
        sub = state.subscriptions.get(sub_id)
        if sub is not None and sub.expires_at <= state.clock.now():
            del state.subscriptions[sub_id]
            sub = None
        if sub is None or (sub.client_id, sub.oid) != (req.caller.client_id, req.caller.oid):
            raise GraphError(404, "ResourceNotFound", f"The object '{sub_id}' was not found.")
        return sub

    async def create(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        assert req.user is not None
        assert req.caller is not None
        body = req.json_body()
        unknown = set(body) - FIELDS
        if unknown:
            raise invalid(f"Unknown subscription properties: {sorted(unknown)}.")
        for name in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(name):
                raise invalid(f"The property '{name}' is required.")
        changes = [c.strip() for c in str(body["changeType"]).split(",")]
        if not changes or any(c not in CHANGE_TYPES for c in changes):
            raise invalid(f"changeType '{body['changeType']}' is not valid for events.")
        if body.get("includeResourceData"):
            raise invalid(
                "Rich notifications (includeResourceData) need an "
                "encryptionCertificate and are not offered for this resource here."
            )
        match = _RESOURCE.match(str(body["resource"]))
        if match is None:
            raise invalid(f"Resource '{body['resource']}' is not supported.")
        user = match.group("user")
        if user and user.strip("'").lower() not in (req.user.oid, req.user.upn.lower()):
            raise GraphError(403, "ExtensionError", "Access denied to the target mailbox.")
        calendar_id = match.group("cid")
        if calendar_id and (
            calendar_id not in state.calendars
            or state.calendars[calendar_id].owner_oid != req.user.oid
        ):
            raise invalid(f"Calendar '{calendar_id}' in the resource was not found.")
        client_state = body.get("clientState")
        if client_state is not None and (
            not isinstance(client_state, str) or len(client_state) > 128
        ):
            raise invalid("clientState must be a string of at most 128 characters.")
        url = check_url(body["notificationUrl"], "notificationUrl")
        lifecycle = body.get("lifecycleNotificationUrl")
        if lifecycle is not None:
            lifecycle = check_url(lifecycle, "lifecycleNotificationUrl")
        expires = expiry(body["expirationDateTime"])
        active = [s for s in state.subscriptions.values() if s.oid == req.user.oid]
        if len(active) >= MAX_PER_MAILBOX:
            raise GraphError(
                403, "ExtensionError", "The mailbox has reached its limit of 1000 subscriptions."
            )
        await handshake(url)
        if lifecycle is not None:
            await handshake(lifecycle)
        sub = Subscription(
            state.ids.guid(),
            req.caller.client_id,
            req.user.oid,
            req.user.tenant_id,
            str(body["resource"]),
            calendar_id,
            changes,
            url,
            lifecycle,
            client_state,
            expires,
            immutable_ids=req.view().immutable,
        )
        state.subscriptions[sub.id] = sub
        return GraphResponse(201, subscription_json(req, sub))

    async def list_subs(req: GraphRequest, _m: re.Match[str]) -> GraphResponse:
        assert req.caller is not None
        now = state.clock.now()
        subs = [
            subscription_json(req, s)
            for s in state.subscriptions.values()
            if (s.client_id, s.oid) == (req.caller.client_id, req.caller.oid) and s.expires_at > now
        ]
        for item in subs:
            item.pop("@odata.context")
        return GraphResponse(
            200,
            {"@odata.context": f"{req.base}{req.version}/$metadata#subscriptions", "value": subs},
        )

    async def get_sub(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        return GraphResponse(200, subscription_json(req, owned(req, m.group("sid"))))

    async def patch_sub(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        sub = owned(req, m.group("sid"))
        body = req.json_body()
        allowed = {"expirationDateTime", "notificationUrl"}
        if set(body) - allowed:
            raise invalid(
                f"Only {sorted(allowed)} can be updated; lifecycleNotificationUrl "
                "can be set only when the subscription is created."
            )
        expires = expiry(body["expirationDateTime"]) if "expirationDateTime" in body else None
        if "notificationUrl" in body:
            url = check_url(body["notificationUrl"], "notificationUrl")
            if url != sub.notification_url:
                await handshake(url)
            sub.notification_url = url
        if expires is not None:
            sub.expires_at = expires
        sub.needs_reauthorization = False
        return GraphResponse(200, subscription_json(req, sub))

    async def delete_sub(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        del state.subscriptions[owned(req, m.group("sid")).id]
        return GraphResponse(204)

    async def reauthorize(req: GraphRequest, m: re.Match[str]) -> GraphResponse:
        owned(req, m.group("sid")).needs_reauthorization = False
        return GraphResponse(204)

    sid = r"/subscriptions/(?P<sid>[0-9a-fA-F-]+)"
    router.add("POST", r"/subscriptions", create, READ_SCOPES)
    router.add("GET", r"/subscriptions", list_subs, READ_SCOPES)
    router.add("GET", sid, get_sub, READ_SCOPES)
    router.add("PATCH", sid, patch_sub, READ_SCOPES)
    router.add("DELETE", sid, delete_sub, READ_SCOPES)
    router.add("POST", sid + "/reauthorize", reauthorize, READ_SCOPES)
