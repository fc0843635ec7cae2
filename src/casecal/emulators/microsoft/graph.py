"""The Graph request pipeline independent of HTTP: a request value, bearer-token auth with
scope checks, ``Prefer`` parsing, and a regex route table that HTTP and ``$batch`` both use."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from casecal.emulators.microsoft.errors import GraphError, error_body
from casecal.emulators.microsoft.render import View
from casecal.emulators.microsoft.state import AccessToken, MicrosoftState, User
from casecal.emulators.microsoft.tz import resolve_zone

_PREFER = re.compile(r'([\w.\-]+)\s*=\s*(?:"([^"]*)"|([^,;\s]+))')
READ_SCOPES = {"calendars.read", "calendars.readwrite"}
WRITE_SCOPES = {"calendars.readwrite"}
USER_SCOPES = {
    "user.read",
    "user.readwrite",
    "user.readbasic.all",
    "user.read.all",
    "directory.read.all",
}


@dataclass
class GraphRequest:
    method: str
    version: str
    path: str
    """Path after the version, with a leading slash: '/me/events'."""
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased header names."""
    body: Any
    base: str
    """Base URL with the mount prefix and a trailing slash."""
    caller: AccessToken | None = None
    user: User | None = None
    owner_segment: str = "me"

    def prefer(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, quoted, bare in _PREFER.findall(self.headers.get("prefer", "")):
            found[name.lower()] = quoted if quoted or not bare else bare
        return found

    def view(self) -> View:
        prefer = self.prefer()
        zone = prefer.get("outlook.timezone", "UTC")
        resolve_zone(zone)
        body_type = prefer.get("outlook.body-content-type", "html").lower()
        if body_type not in ("html", "text"):
            body_type = "html"
        return View(
            base=self.base,
            version=self.version,
            zone=zone,
            immutable=prefer.get("idtype", "").lower() == "immutableid",
            body_type=body_type,
        )

    def json_body(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise GraphError(400, "RequestBodyRead", "The request body must be a JSON object.")
        return self.body


@dataclass
class GraphResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[GraphRequest, "re.Match[str]"], Awaitable[GraphResponse]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scopes: set[str]
    versions: tuple[str, ...] = ("v1.0", "beta")


class GraphRouter:
    """Authenticates and dispatches Graph requests."""

    def __init__(self, state: MicrosoftState) -> None:
        self.state = state
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        scopes: set[str] | None = None,
        versions: tuple[str, ...] = ("v1.0", "beta"),
    ) -> None:
        scope_set = (
            scopes if scopes is not None else (READ_SCOPES if method == "GET" else WRITE_SCOPES)
        )
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler, scope_set, versions))

    def authenticate(self, req: GraphRequest) -> None:
        header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not token or scheme.lower() != "bearer":
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        caller = self.state.access_tokens.get(token.strip())
        if caller is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "CompactToken parsing failed with error code: 80049217",
            )
        if caller.revoked:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token has been revoked.")
        if caller.expires_at <= self.state.clock.now():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        req.caller = caller
        req.user = self.state.users[caller.oid]

    def _owner(self, req: GraphRequest) -> None:
        match = re.match(r"^/users/([^/]+)(/.*)?$", req.path)
        if not match:
            return
        assert req.user is not None
        key = match.group(1).strip("'")
        if key.lower() not in (req.user.oid.lower(), req.user.upn.lower()):
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        req.owner_segment = f"users/{match.group(1)}"
        req.path = "/me" + (match.group(2) or "")

    async def dispatch(self, req: GraphRequest) -> GraphResponse:
        try:
            self.authenticate(req)
            self._owner(req)
            allowed = False
            for route in self.routes:
                match = route.pattern.match(req.path)
                if match is None or req.version not in route.versions:
                    continue
                allowed = True
                if route.method != req.method:
                    continue
                assert req.caller is not None
                require_scopes(req.caller, route.scopes)
                return await route.handler(req, match)
            if allowed:
                raise GraphError(
                    405,
                    "Request_BadRequest",
                    f"The method {req.method} is not allowed on this resource.",
                )
            segment = req.path.rstrip("/").rsplit("/", 1)[-1]
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
        except GraphError as exc:
            return error_response(exc, req.headers.get("client-request-id"))


def error_response(exc: GraphError, client_request_id: str | None = None) -> GraphResponse:
    body = error_body(exc.code, exc.message, client_request_id)
    headers = {"request-id": body["error"]["innerError"]["request-id"], **exc.headers}
    return GraphResponse(exc.status, body, headers)


def require_scopes(caller: AccessToken, needed: set[str]) -> None:
    if needed and not needed & {s.lower() for s in caller.scopes}:
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )


def new_request_id() -> str:
    return str(uuid.uuid4())
