"""Where a calendar may begin expanding a series for a window, so that a long-running series
is expanded only around the window shown, never from its first start. Pure: no I/O, no clock.

A series whose rule has neither COUNT nor any BY part repeats every INTERVAL days (DAILY) or
weeks (WEEKLY) from its first start, in wall-clock time: starting the expansion at a later
occurrence gives the same occurrences from there on. Any other rule is left as it is (its
expansion is bounded by ``occurrences.MAX_OCCURRENCES``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from casecal.domain.recurrence import BadRecurrence, EventTime, parse_rrule

_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7}
_SAFE_PARTS = frozenset({"FREQ", "INTERVAL", "UNTIL", "WKST"})


def period(rule: str) -> timedelta | None:
    """The fixed step between occurrences of ``rule``, or ``None`` if it has none that is
    safe to skip by (COUNT counts from the first start; BY parts pick varying days)."""
    try:
        parts = parse_rrule(rule)
    except BadRecurrence:
        return None
    days = _PERIOD_DAYS.get(parts.get("FREQ", ""))
    if days is None or set(parts) - _SAFE_PARTS:
        return None
    return timedelta(days=days * int(parts.get("INTERVAL", "1")))


def skip_ahead(start: EventTime, rule: str, before: date) -> timedelta:
    """How far to move the series' first start (and end) forward so that it is its last
    occurrence on or before the day ``before``: a whole number of periods, or nothing."""
    step = period(rule)
    first = start.date() if isinstance(start, datetime) else start
    if step is None or first >= before:
        return timedelta(0)
    return step * ((before - first) // step)


__all__ = ["period", "skip_ahead"]
