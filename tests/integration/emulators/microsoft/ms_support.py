"""Shared helpers of the Microsoft emulator tests: the webhook receiver, the directory the
fixtures build, PKCE and event-body helpers."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "app-secret"
REDIRECT = "https://casecal.test/auth/microsoft/callback"
SCOPES = ["User.Read", "Calendars.ReadWrite"]
WINDOW = "startDateTime=2026-01-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"


@dataclass
class Receiver:
    """A webhook endpoint: answers validation tokens (as configured) and records posts."""

    mode: str = "echo"  # echo | wrong | status500 | json
    notifications: list[dict[str, Any]] = field(default_factory=list)
    validations: list[str] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            self.validations.append(request.url.path)
            if self.mode == "wrong":
                return PlainTextResponse(token + "x")
            if self.mode == "status500":
                return PlainTextResponse("nope", status_code=500)
            if self.mode == "json":
                return Response(f'"{token}"', media_type="application/json")
            return PlainTextResponse(token)
        self.notifications.append({"path": request.url.path, **(await request.json())})
        return Response(status_code=202)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.endpoint, methods=["POST"])])


@dataclass
class World:
    user_tenant: str
    admin_tenant: str
    ann: str
    """oid of ann@contoso.com (user-consent tenant)."""
    bob: str
    """oid of bob@fabrikam.com, a non-admin of the admin-consent tenant."""
    carol: str
    """oid of carol@fabrikam.com, an admin of the admin-consent tenant."""


def pkce_pair(verifier: str = "v" * 50) -> tuple[str, str]:
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def event_body(subject: str = "Interview", day: str = "2026-05-04", **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": f"{day}T10:00:00", "timeZone": "W. Europe Standard Time"},
        **extra,
    }
