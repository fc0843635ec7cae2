"""Provider timestamps on the wire -> aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def wire_stamp(value: object) -> datetime | None:
    """An RFC 3339 stamp (``2026-12-04T10:00:00.000Z``; Graph may omit the zone, meaning UTC)
    as an aware datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
