"""Graph's error body ({"error": {code, message, innerError}}) and the exception that carries
it from any handler to the response."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


class GraphError(Exception):
    """An answer in Graph's error format; raised anywhere below a Graph handler."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str, client_request_id: str | None = None) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }


def render_graph_error(
    status: int, reason: str, message: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The renderer handed to the shared FaultMiddleware."""
    body = error_body(reason, message)
    headers = {"request-id": body["error"]["innerError"]["request-id"]}
    return body, headers
