"""Absolute URLs as the caller sees them, including the prefix the app is mounted under."""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.types import Scope


def base_url(scope: Scope) -> str:
    """Scheme, host and ``root_path``, with a trailing slash."""
    root = scope.get("root_path", "").rstrip("/")
    return str(URL(scope={**scope, "path": root + "/", "query_string": b""}))
