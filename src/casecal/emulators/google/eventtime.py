"""Validation and normalisation of an event's ``start``/``end`` (EventDateTime) objects, and
their conversion to instants for time-window filtering."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .clock import format_dt
from .errors import ApiError, invalid

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EVENT_DATETIME_KEYS = {"date", "dateTime", "timeZone"}


def zone(name: str) -> ZoneInfo | None:
    if not name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def normalize(value: Any, which: str) -> dict[str, str]:
    """A validated EventDateTime; ``dateTime`` rewritten with the zone's offset when a
    ``timeZone`` is given. ``which`` is "start", "end" or "originalStartTime"."""
    label = "start" if which == "originalStartTime" else which
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise ApiError(400, "required", f"Missing {label} time.")
    unknown = set(value) - EVENT_DATETIME_KEYS
    if unknown:
        raise invalid(f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}.")
    out: dict[str, str] = {}
    tz_name = value.get("timeZone")
    tz: ZoneInfo | None = None
    if tz_name is not None:
        tz = zone(str(tz_name))
        if tz is None:
            raise invalid(f"Invalid time zone definition for {label} time.")
        out["timeZone"] = str(tz_name)
    if value.get("date") and value.get("dateTime"):
        raise invalid(f"Invalid {label} time: set either date or dateTime, not both.")
    if value.get("date"):
        text = str(value["date"])
        if not DATE_RE.match(text):
            raise invalid(f"Invalid {label} time.")
        try:
            date.fromisoformat(text)
        except ValueError:
            raise invalid(f"Invalid {label} time.") from None
        out["date"] = text
        return out
    text = str(value["dateTime"])
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"Invalid {label} time.") from None
    if "T" not in text.upper():
        raise invalid(f"Invalid {label} time.")
    if dt.tzinfo is None:
        if tz is None:
            raise invalid(f"Missing time zone definition for {label} time.")
        dt = dt.replace(tzinfo=tz)
    elif tz is not None:
        dt = dt.astimezone(tz)
    out["dateTime"] = format_dt(dt)
    return out


def is_all_day(value: dict[str, Any]) -> bool:
    return "date" in value


def to_instant(value: dict[str, Any], default_tz: ZoneInfo) -> datetime:
    """The instant an EventDateTime denotes; all-day dates start at midnight in the event's
    (or else the calendar's) zone."""
    if "date" in value:
        tz = zone(value.get("timeZone", "")) or default_tz
        return datetime.combine(date.fromisoformat(value["date"]), time(), tz)
    return datetime.fromisoformat(value["dateTime"])


def check_range(start: dict[str, Any], end: dict[str, Any]) -> None:
    if is_all_day(start) != is_all_day(end):
        raise invalid("Invalid start and end times: both must be dates or both date-times.")
    if is_all_day(start):
        empty = date.fromisoformat(end["date"]) <= date.fromisoformat(start["date"])
    else:
        empty = datetime.fromisoformat(end["dateTime"]) <= datetime.fromisoformat(start["dateTime"])
    if empty:
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")


def duration(start: dict[str, Any], end: dict[str, Any]) -> timedelta:
    utc = ZoneInfo("UTC")
    return to_instant(end, utc) - to_instant(start, utc)
