"""The HTTP edge of Graph: turns a Starlette request into a GraphRequest (or a $batch), and a
GraphResponse back into JSON with Graph's request-id headers; normalises mounted paths."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from casecal.emulators.microsoft.batch import run_batch
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.graph import GraphRequest, GraphRouter, error_response
from casecal.emulators.microsoft.throttle import Throttle
from casecal.emulators.microsoft.urls import base_url


class GraphEndpoint:
    def __init__(self, router: GraphRouter, throttle: Throttle) -> None:
        self.router = router
        self.throttle = throttle

    async def handle(self, request: Request) -> Response:
        path = get_route_path(request.scope)
        version = "beta" if path.startswith("/beta/") else "v1.0"
        rest = path[len(version) + 1 :]
        headers = {k.lower(): v for k, v in request.headers.items()}
        client_request_id = headers.get("client-request-id") or str(uuid.uuid4())
        try:
            body = await self._body(request)
        except GraphError as exc:
            return self._respond(error_response(exc, client_request_id).__dict__, client_request_id)
        graph_request = GraphRequest(
            request.method,
            version,
            rest,
            dict(request.query_params),
            headers,
            body,
            base_url(request.scope),
        )
        if rest == "/$batch" and request.method == "POST":
            response = await run_batch(self.router, self.throttle, graph_request)
        else:
            response = await self.router.dispatch(graph_request)
        return self._respond(response.__dict__, client_request_id)

    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return None
        if "json" not in request.headers.get("content-type", ""):
            raise GraphError(
                415,
                "UnsupportedMediaType",
                "Content-Type must be application/json for a request body.",
            )
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise GraphError(400, "RequestBodyRead", "The request body is not valid JSON.") from exc

    def _respond(self, response: dict[str, Any], client_request_id: str) -> Response:
        headers = {
            "request-id": str(uuid.uuid4()),
            **response["headers"],
            "client-request-id": client_request_id,
        }
        if response["body"] is None:
            return Response(status_code=response["status"], headers=headers)
        return JSONResponse(
            response["body"],
            status_code=response["status"],
            headers=headers,
            media_type="application/json;odata.metadata=minimal",
        )


class RoutePathMiddleware:
    """Rewrites ``path`` to the path inside the app (the mount prefix stays in
    ``root_path``), so faults, throttling and the request log see the same paths whether the
    app is served at the root or mounted under a prefix."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("root_path"):
            route_path = get_route_path(scope) or "/"
            scope = {**scope, "path": route_path, "raw_path": route_path.encode()}
        await self.app(scope, receive, send)
