"""Graph ``patternedRecurrence``: validation as strict as Exchange's, and expansion of a series
into the original starts of its occurrences (dateutil.rrule, in the recurrence time zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from dateutil import rrule

from casecal.emulators.microsoft.errors import GraphError

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
PATTERNS = {
    "daily": set(),
    "weekly": {"daysOfWeek"},
    "absoluteMonthly": {"dayOfMonth"},
    "relativeMonthly": {"daysOfWeek"},
    "absoluteYearly": {"dayOfMonth", "month"},
    "relativeYearly": {"daysOfWeek", "month"},
}
RANGES = {"endDate": {"startDate", "endDate"}, "noEnd": {"startDate"}, "numbered": {"startDate"}}
MAX_INSTANCES = 5000


def _bad(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidRequest", f"Invalid recurrence: {message}")


def _date(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise _bad(f"{name} '{value}' is not a date (yyyy-MM-dd).") from exc


def validate(recurrence: object, first_day: date) -> dict[str, Any]:
    """Check a patternedRecurrence; returns it normalised. ``first_day`` is the event's start
    date in the recurrence zone, which range.startDate must equal."""
    if not isinstance(recurrence, dict):
        raise _bad("recurrence must be an object.")
    pattern, rng = recurrence.get("pattern"), recurrence.get("range")
    if not isinstance(pattern, dict) or not isinstance(rng, dict):
        raise _bad("pattern and range are required.")
    kind = pattern.get("type")
    if kind not in PATTERNS:
        raise _bad(f"pattern.type '{kind}' is not supported.")
    interval = pattern.get("interval")
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise _bad("pattern.interval must be a positive integer.")
    for name in PATTERNS[kind]:
        if pattern.get(name) in (None, [], 0):
            raise _bad(f"pattern.{name} is required for a {kind} pattern.")
    days = pattern.get("daysOfWeek") or []
    if not isinstance(days, list) or any(d not in DAYS for d in days):
        raise _bad(f"pattern.daysOfWeek {days!r} is not a list of day names.")
    if pattern.get("index", "first") not in INDEX:
        raise _bad(f"pattern.index '{pattern.get('index')}' is not supported.")
    if pattern.get("firstDayOfWeek", "sunday") not in DAYS:
        raise _bad("pattern.firstDayOfWeek is not a day name.")
    if "dayOfMonth" in PATTERNS[kind] and not 1 <= int(pattern["dayOfMonth"]) <= 31:
        raise _bad("pattern.dayOfMonth must be 1-31.")
    if "month" in PATTERNS[kind] and not 1 <= int(pattern["month"]) <= 12:
        raise _bad("pattern.month must be 1-12.")
    range_kind = rng.get("type")
    if range_kind not in RANGES:
        raise _bad(f"range.type '{range_kind}' is not supported.")
    for name in RANGES[range_kind]:
        if not rng.get(name):
            raise _bad(f"range.{name} is required for a {range_kind} range.")
    start = _date(rng["startDate"], "range.startDate")
    if start != first_day:
        raise _bad(f"range.startDate {start} must be the start date of the event ({first_day}).")
    if range_kind == "endDate" and _date(rng["endDate"], "range.endDate") < start:
        raise _bad("range.endDate is before range.startDate.")
    count = rng.get("numberOfOccurrences")
    if range_kind == "numbered" and (not isinstance(count, int) or count < 1):
        raise _bad("range.numberOfOccurrences must be a positive integer.")
    return {"pattern": dict(pattern), "range": dict(rng)}


def _rule(recurrence: dict[str, Any], dtstart: datetime) -> rrule.rrule:
    pattern, rng = recurrence["pattern"], recurrence["range"]
    kind = pattern["type"]
    weekdays = [rrule.weekdays[DAYS.index(d)] for d in pattern.get("daysOfWeek") or []]
    index = INDEX[pattern.get("index", "first")]
    options: dict[str, Any] = {
        "dtstart": dtstart,
        "interval": pattern["interval"],
        "wkst": DAYS.index(pattern.get("firstDayOfWeek", "sunday")),
    }
    if rng["type"] == "numbered":
        options["count"] = rng["numberOfOccurrences"]
    elif rng["type"] == "endDate":
        options["until"] = datetime.combine(date.fromisoformat(rng["endDate"]), datetime.max.time())
    if kind == "daily":
        return rrule.rrule(rrule.DAILY, **options)
    if kind == "weekly":
        return rrule.rrule(rrule.WEEKLY, byweekday=weekdays, **options)
    if kind == "absoluteMonthly":
        return rrule.rrule(rrule.MONTHLY, bymonthday=int(pattern["dayOfMonth"]), **options)
    if kind == "absoluteYearly":
        month, day = int(pattern["month"]), int(pattern["dayOfMonth"])
        return rrule.rrule(rrule.YEARLY, bymonth=month, bymonthday=day, **options)
    freq = rrule.MONTHLY if kind == "relativeMonthly" else rrule.YEARLY
    if kind == "relativeYearly":
        options["bymonth"] = int(pattern["month"])
    return rrule.rrule(freq, byweekday=weekdays, bysetpos=index, **options)


def expand(
    recurrence: dict[str, Any],
    local_start: datetime,
    zone: tzinfo,
    all_day: bool,
    until: datetime,
) -> list[datetime | date]:
    """Original starts of the series up to ``until`` (aware): UTC instants for timed series,
    dates for all-day ones. ``local_start`` is the master's naive wall-clock start."""
    rule = _rule(recurrence, local_start)
    limit = until.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    starts: list[datetime | date] = []
    for local in rule:
        if local > limit or len(starts) >= MAX_INSTANCES:
            break
        starts.append(local.date() if all_day else local.replace(tzinfo=zone).astimezone(UTC))
    return starts
