"""The batch endpoint (POST /batch/calendar/v3): a multipart/mixed body of at most 1000 HTTP
requests, each run through the emulator like a separate call, answered in shuffled order
with ``Content-ID: <response-ID>`` so clients must match by id."""

from __future__ import annotations

import random
import secrets
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp
from starlette.types import Message as Message_

from .errors import error_body

MAX_PARTS = 1000
REASONS = {200: "OK", 204: "No Content", 304: "Not Modified", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           410: "Gone", 412: "Precondition Failed", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}  # fmt: skip


def _bad(message: str) -> Response:
    return JSONResponse(error_body(400, "badRequest", message), status_code=400)


def parse_parts(content_type: str, body: bytes) -> list[Message] | None:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=compat32).parsebytes(head + body)
    if not message.is_multipart():
        return None
    parts = message.get_payload()
    if not isinstance(parts, list):
        return None
    return [p for p in parts if isinstance(p, Message)]


def parse_http(text: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, target, headers, body) of one serialized HTTP request."""
    text = text.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, target, *_ = lines[0].split(" ")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))
    return method.upper(), target, headers, body.encode()


class BatchEndpoint:
    """Dispatches each part to ``app`` (the whole emulator, faults and log included)."""

    def __init__(self, rng: random.Random) -> None:
        self.app: ASGIApp | None = None
        self.rng = rng

    async def handle(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/mixed"):
            return _bad("The batch request must be multipart/mixed.")
        parts = parse_parts(content_type, await request.body())
        if parts is None:
            return _bad("Could not parse the multipart/mixed body.")
        if len(parts) > MAX_PARTS:
            return _bad(f"A batch request may hold at most {MAX_PARTS} calls.")
        calls = []
        root = request.scope.get("root_path", "")
        for part in parts:
            payload = part.get_payload(decode=True)
            raw = payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)
            method, target, headers, body = parse_http(raw)
            url = urlsplit(target)
            path = url.path[len(root) :] if root and url.path.startswith(root + "/") else url.path
            if not path.startswith("/calendar/v3/"):
                return _bad("Every call in a batch must go to the Calendar API (/calendar/v3/).")
            calls.append((part.get("Content-ID"), method, path, url.query, headers, body))
        outer_auth = request.headers.get("authorization")
        answers = []
        for content_id, method, path, query, headers, body in calls:
            if outer_auth and not any(k == "authorization" for k, _ in headers):
                headers.append(("authorization", outer_auth))
            status, out_headers, out_body = await self._run(
                request, method, path, query, headers, body
            )
            answers.append((content_id, status, out_headers, out_body))
        self.rng.shuffle(answers)
        boundary = "batch_" + secrets.token_hex(12)
        chunks = []
        for content_id, status, out_headers, out_body in answers:
            part_head = "Content-Type: application/http\r\n"
            if content_id:
                part_head += f"Content-ID: <response-{content_id.strip().strip('<>')}>\r\n"
            lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
            lines += [f"{k}: {v}" for k, v in out_headers if k.lower() != "content-length"]
            inner = "\r\n".join(lines) + "\r\n\r\n"
            chunks.append(
                f"--{boundary}\r\n{part_head}\r\n".encode() + inner.encode() + out_body + b"\r\n"
            )
        data = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        return Response(data, media_type=f"multipart/mixed; boundary={boundary}")

    async def _run(
        self,
        request: Request,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.app is not None
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": request.url.scheme,
            "path": path,
            "query_string": query.encode(),
            "root_path": request.scope.get("root_path", ""),
            "headers": [(k.encode(), v.encode()) for k, v in headers]
            + [(b"content-length", str(len(body)).encode())],
            "server": request.scope.get("server"),
            "client": request.scope.get("client"),
        }
        sent = False
        status = 500
        out_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> Message_:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message_) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers.extend((k.decode(), v.decode()) for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out_headers, b"".join(chunks)
