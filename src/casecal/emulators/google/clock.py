"""The emulator's clock (real time plus a test-controlled offset) and RFC 3339 helpers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time that tests can move forward (``advance``) to expire tokens, codes and
    channels without sleeping. ``updated`` stamps are strictly increasing."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._last_stamp_ms = 0

    def now(self) -> float:
        return time.time() + self.offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def stamp_ms(self) -> int:
        """A millisecond timestamp greater than every earlier one (for ``updated``/etags)."""
        ms = max(int(self.now() * 1000), self._last_stamp_ms + 1)
        self._last_stamp_ms = ms
        return ms


def format_ms(ms: int) -> str:
    """RFC 3339 in UTC with milliseconds, as Google writes ``created``/``updated``."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def format_dt(dt: datetime) -> str:
    """RFC 3339 with the datetime's own offset, ``Z`` for UTC, whole seconds."""
    text = dt.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_rfc3339(value: str) -> datetime | None:
    """An offset-aware datetime, or None if ``value`` is not RFC 3339 with an offset."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if "T" not in value.upper() or dt.tzinfo is None:
        return None
    return dt


def http_date(seconds: float) -> str:
    """An RFC 1123 date, as in ``X-Goog-Channel-Expiration``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def utc_stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


ONE_DAY = timedelta(days=1)
