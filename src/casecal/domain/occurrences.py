"""Expanding a series inside a window (as a calendar shows it), and finding the occurrences a
listing left out.

Graph never reports a cancelled occurrence: it is simply missing from the occurrences that
calendarView (delta) lists for the series (Graph's calendarView delta). Whoever receives
a complete listing of a series in a window can compute the cancellations as the rule's
occurrences in that window that the listing did not show. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from casecal.domain.entries import OccurrenceChange
from casecal.domain.event import CanonicalEvent
from casecal.domain.recurrence import (
    EventTime,
    format_rrule,
    parse_rrule,
    parse_until,
    starts_on_occurrence,
    time_key,
)

MAX_OCCURRENCES = 5000
"""A bound on one expansion (Google's instance ceiling is 2,500 a series)."""


def occurrences(
    rule: str, start: EventTime, tz: str, lo: datetime, hi: datetime
) -> Iterator[EventTime]:
    """The occurrences of ``rule`` for a series starting at ``start`` (counted itself, as in
    RFC 5545) whose start lies in [lo, hi). Timed series repeat in wall-clock time in ``tz``,
    so they keep their local time across DST; all-day series yield dates."""
    zone = ZoneInfo(tz)
    parts = parse_rrule(rule)
    until = parse_until(parts.pop("UNTIL"), start) if "UNTIL" in parts else None
    if isinstance(start, datetime):
        first = start.astimezone(zone).replace(tzinfo=None)
    else:
        first = datetime.combine(start, time())
    for n, naive in enumerate(rrulestr(format_rrule(parts), dtstart=first)):
        if n >= MAX_OCCURRENCES:
            return
        value: EventTime = (
            naive.replace(tzinfo=zone) if isinstance(start, datetime) else naive.date()
        )
        if until is not None and time_key(value) > time_key(until):
            return
        instant = _instant(value, zone)
        if instant >= hi:
            return
        if instant >= lo:
            yield value


def occurrence_keys(rule: str, start: EventTime, tz: str, when: Iterable[EventTime]) -> set[str]:
    """The ``time_key`` of each of ``when`` that is an occurrence of the series (one bounded
    expansion over their span, however many there are)."""
    zone = ZoneInfo(tz)
    wanted = {time_key(w): _instant(w, zone) for w in when}
    if not wanted:
        return set()
    lo = min(wanted.values()) - timedelta(seconds=1)
    hi = max(wanted.values()) + timedelta(seconds=1)
    found = {time_key(v) for v in occurrences(rule, start, tz, lo, hi)}
    return found & set(wanted)


def absent_occurrences(
    event: CanonicalEvent, listed: Iterable[EventTime], lo: datetime, hi: datetime
) -> list[EventTime]:
    """The occurrences of ``event``'s series in [lo, hi) that are neither in ``listed`` (the
    original starts a complete listing of that window showed) nor already cancelled. Empty
    for anything but a plain one-rule series, where absence cannot be read so simply."""
    rec = event.recurrence
    if rec is None or len(rec.rrules) != 1 or rec.exrules or rec.rdates:
        return []
    shown = {time_key(v) for v in listed}
    cancelled = {time_key(v) for v in rec.exdates}
    if not starts_on_occurrence(rec.rrules[0], event.start):
        # RFC 5545 counts the first start anyway; Graph does not list it: not a cancellation.
        shown.add(time_key(event.start))
    return [
        value
        for value in occurrences(rec.rrules[0], event.start, event.tz, lo, hi)
        if time_key(value) not in shown and time_key(value) not in cancelled
    ]


@dataclass(frozen=True, slots=True)
class Shown:
    """One occurrence of a series as a calendar shows it."""

    original_start: EventTime
    title: str
    start: EventTime
    end: EventTime
    location: str


def shown_occurrences(
    series: Shown,
    rule: str,
    tz: str,
    cancelled: Iterable[EventTime],
    changes: Iterable[OccurrenceChange],
    lo: datetime,
    hi: datetime,
) -> list[Shown]:
    """The occurrences of ``series`` (its first one) under ``rule`` that start in [lo, hi),
    as a calendar shows them: cancelled ones left out, changed ones with their own title,
    times and place (found when their slot lies within a week of the window), in order."""
    zone = ZoneInfo(tz)
    length = _length(series.start, series.end)
    gone = {time_key(v) for v in cancelled}
    changed = {time_key(c.original_start): c for c in changes}
    out: list[Shown] = []
    for slot in occurrences(rule, series.start, tz, lo - _MOVE_REACH, hi + _MOVE_REACH):
        key = time_key(slot)
        if key in gone:
            continue
        change = changed.get(key)
        if change is not None:
            shown = Shown(slot, change.title, change.start, change.end, change.location)
        else:
            # Elapsed time, not wall-clock time (which jumps at a DST change).
            end = (
                (slot.astimezone(UTC) + length).astimezone(zone)
                if isinstance(slot, datetime)
                else slot + length
            )
            shown = Shown(slot, series.title, slot, end, series.location)
        if lo <= _instant(shown.start, zone) < hi:
            out.append(shown)
    return sorted(out, key=lambda s: time_key(s.start))


_MOVE_REACH = timedelta(days=7)
"""How far from its slot a changed occurrence is looked for."""


def _length(start: EventTime, end: EventTime) -> timedelta:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end.astimezone(UTC) - start.astimezone(UTC)
    return end - start if not isinstance(end, datetime) else timedelta(0)


def _instant(value: EventTime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=zone)


__all__ = [
    "MAX_OCCURRENCES",
    "Shown",
    "absent_occurrences",
    "occurrence_keys",
    "occurrences",
    "shown_occurrences",
]
