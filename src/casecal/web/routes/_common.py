"""Query parameters and documented error responses shared by every router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from casecal.services.paging import DEFAULT_LIMIT, MAX_LIMIT

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string", "description": "The request field at fault, if one is."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The request body could not be read (not valid JSON)."),
    401: _problem("No valid API token."),
    403: _problem("The caller's role may not do this."),
    404: _problem("No such resource in the caller's firm (another firm's ids look missing too)."),
    409: _problem("The request clashes with the current state."),
    422: _problem("The input breaks a rule; `field` / `errors` name what to fix."),
}

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (at most {MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="How many items to skip.")]
RangeStart = Annotated[
    datetime | None,
    Query(
        description="Only entries ending after this instant (ISO 8601 with a UTC offset). An "
        "entry that spans the boundary is included."
    ),
]
RangeEnd = Annotated[
    datetime | None,
    Query(description="Only entries starting before this instant (ISO 8601 with a UTC offset)."),
]
DEFAULT = DEFAULT_LIMIT
