"""Google Calendar wire details: error reasons -> taxonomy, and the ``multipart/mixed`` codec of
the batch endpoint (one HTTP request per part, answers matched by ``Content-ID``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casecal.providers._http import classify_with, default_error
from casecal.providers.errors import (
    ConsentRequired,
    CursorExpired,
    Gone,
    ProviderError,
    RateLimited,
    Transient,
)
from casecal.providers.wirejson import loads

PROVIDER = "google"
USAGE_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
CURSOR_REASONS = frozenset({"fullSyncRequired", "updatedMinTooLongAgo"})


def error_reason(body: Any) -> tuple[str, str, str]:
    """(reason, domain, message) of a Google JSON error body; empty strings when absent."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", ""
    items = error.get("errors") or [{}]
    first = items[0] if isinstance(items[0], dict) else {}
    details = error.get("details") or []
    reason = str(first.get("reason", ""))
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("reason") in SCOPE_REASONS:
            reason = str(detail["reason"])
    return reason, str(first.get("domain", "")), str(error.get("message", ""))


def classify_parts(status: int, body: Any) -> ProviderError:
    """Map a Google error answer (status + decoded body) to the taxonomy."""
    reason, domain, message = error_reason(body)
    args: dict[str, Any] = {"provider": PROVIDER, "status": status, "reason": reason}
    text = message or reason or f"HTTP {status}"
    if status in (403, 429) and (reason in USAGE_REASONS or domain == "usageLimits"):
        return RateLimited(text, retry_after=None, **args)
    if status == 403 and reason in SCOPE_REASONS:
        return ConsentRequired(text, **args)
    if status == 410 and reason in CURSOR_REASONS:
        return CursorExpired(text, **args)
    if status == 410:
        return Gone(text, **args)
    if status == 409 and reason == "conflict":
        return Transient(text, **args)  # batch sub-requests clashed: retry separately
    return default_error(status, provider=PROVIDER, reason=reason, message=text, retry_after=None)


classify = classify_with(classify_parts)
"""The HTTP layer's classifier for this provider's responses."""


@dataclass(frozen=True, slots=True)
class Part:
    """One inner request of a batch: a path-only URL, headers, and an optional JSON body."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True, slots=True)
class PartResponse:
    status: int
    headers: dict[str, str]
    body: Any


def encode_batch(parts: Sequence[Part]) -> tuple[str, bytes]:
    """The multipart body of a batch request and its boundary. Part i has Content-ID <i>."""
    boundary = f"batch_{uuid.uuid4().hex}"
    chunks: list[str] = []
    for index, part in enumerate(parts):
        lines = [f"{part.method} {part.path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in part.headers.items()]
        payload = ""
        if part.body is not None:
            payload = json.dumps(part.body)
            lines.append("Content-Type: application/json; charset=UTF-8")
        inner = "\r\n".join(lines) + "\r\n\r\n" + payload
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-ID: <{index}>\r\n\r\n{inner}\r\n"
        )
    return boundary, ("".join(chunks) + f"--{boundary}--\r\n").encode()


def decode_batch(content_type: str, content: bytes, count: int) -> list[PartResponse | None]:
    """Inner responses in request order (matched by ``Content-ID: <response-i>``); a part the
    server did not answer is None."""
    boundary = _boundary(content_type)
    found: list[PartResponse | None] = [None] * count
    text = content.decode("utf-8", errors="replace")
    for chunk in text.split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            break
        outer_head, _, inner = chunk.strip("\r\n").partition("\r\n\r\n")
        index = _content_index(_headers(outer_head.split("\r\n")).get("content-id", ""))
        head, _, payload = inner.partition("\r\n\r\n")
        status_line, *header_lines = head.split("\r\n")
        fields = status_line.split(" ", 2)
        if index is None or not 0 <= index < count or len(fields) < 2:
            continue
        body: Any = None
        if payload.strip():
            try:
                body = loads(payload)
            except ValueError:
                body = payload
        found[index] = PartResponse(int(fields[1]), _headers(header_lines), body)
    return found


def _boundary(content_type: str) -> str:
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"')
    raise ValueError(f"no boundary in {content_type!r}")


def _headers(lines: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _content_index(value: str) -> int | None:
    token = value.strip().strip("<>")
    token = token.removeprefix("response-")
    return int(token) if token.isdigit() else None
