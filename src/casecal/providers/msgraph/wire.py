"""Microsoft Graph wire details: error codes -> taxonomy, the ``Prefer`` header sent on every
request, weak etags from change keys, and the idempotency key of a create."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from casecal.domain.tags import Tag
from casecal.providers._http import classify_with, default_error
from casecal.providers.errors import (
    CursorExpired,
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
    RateLimited,
)

PROVIDER = "microsoft"
PREFER = 'IdType="ImmutableId", outlook.timezone="UTC"'
CURSOR_CODES = frozenset({"syncStateNotFound", "resyncRequired", "SyncStateInvalid"})
THROTTLE_CODES = frozenset({"ApplicationThrottled", "TooManyRequests", "MailboxConcurrency"})
TRANSACTION_NAMESPACE = uuid.UUID("3b0c8d52-2f6e-5a8e-9c41-7d2f0e6a1b93")
"""uuid5 namespace of Graph ``transactionId`` values. Never change it: events carry them."""


def transaction_id(tag: Tag) -> str:
    """The create idempotency key of a host entry on a connection (stable across retries)."""
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{tag.connection_id}/{tag.entry_id}"))


def weak_etag(item: dict[str, Any]) -> str | None:
    """The value for ``If-Match``: ``@odata.etag``, else ``W/"<changeKey>"``."""
    etag = item.get("@odata.etag")
    if etag:
        return str(etag)
    key = item.get("changeKey")
    return f'W/"{key}"' if key else None


def error_code(body: Any) -> tuple[str, str]:
    """(code, message) of a Graph error body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code", "")), str(error.get("message", ""))


def classify_parts(status: int, body: Any) -> ProviderError:
    code, message = error_code(body)
    args: dict[str, Any] = {"provider": PROVIDER, "status": status, "reason": code}
    text = message or code or f"HTTP {status}"
    if status == 410 or code in CURSOR_CODES:
        return CursorExpired(text, **args)
    if status == 412 or code == "ErrorIrresolvableConflict":
        return PreconditionFailed(text, **args)
    if status == 429 or code in THROTTLE_CODES:
        return RateLimited(text, retry_after=None, **args)
    if status == 404 or code == "ErrorItemNotFound":
        return NotFound(text, **args)
    if status == 424:
        return PermanentError(text, **args)  # a batch part whose dependency failed
    return default_error(status, provider=PROVIDER, reason=code, message=text, retry_after=None)


classify = classify_with(classify_parts)
"""The HTTP layer's classifier for this provider's responses."""


def iso(value: datetime) -> str:
    """A UTC instant as Graph's query parameters take it (naive values are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
