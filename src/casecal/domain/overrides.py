"""Occurrences of a recurring appointment changed on their own: how the host stores them (one
JSON object each, in ``Appointment.overrides``), and merging one in by its original start."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime

from casecal.domain.entries import OccurrenceChange
from casecal.domain.recurrence import EventTime, time_key

Stored = dict[str, str]
"""``{"original_start", "title", "start", "end", "location", "notes"}``, times in ISO form:
dates for an all-day series, datetimes in the series' zone otherwise."""


def parse_time(value: str) -> EventTime:
    """An ISO date (ten characters) or an ISO datetime."""
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def to_stored(change: OccurrenceChange) -> Stored:
    return {
        "original_start": change.original_start.isoformat(),
        "title": change.title[:500],
        "start": change.start.isoformat(),
        "end": change.end.isoformat(),
        "location": change.location[:500],
        "notes": change.notes,
    }


def from_stored(stored: Stored) -> OccurrenceChange:
    return OccurrenceChange(
        original_start=parse_time(stored["original_start"]),
        title=stored["title"],
        start=parse_time(stored["start"]),
        end=parse_time(stored["end"]),
        location=stored.get("location", ""),
        notes=stored.get("notes", ""),
    )


def slot(stored: Stored) -> str:
    """The occurrence an override stands for, as a zone-independent key."""
    return time_key(parse_time(stored["original_start"]))


def merge(current: list[Stored], change: Stored) -> list[Stored]:
    """``current`` with ``change`` in place of the override of the same occurrence (compared
    as instants), or added; in original-start order."""
    kept = [x for x in current if slot(x) != slot(change)]
    return sorted([*kept, change], key=slot)


CANCELLED = "cancelled"
"""What ``Link.occurrences`` holds for an occurrence both sides hold cancelled."""


def digest(stored: Stored) -> str:
    """A stable hash of one override as stored: what ``Link.occurrences`` keeps per slot."""
    blob = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def synced(held: Iterable[Stored]) -> dict[str, str]:
    """The per-slot digests of the overrides a series write sends."""
    return {slot(x): digest(x) for x in held}


def merge_exdates(current: list[str], more: list[str]) -> list[str]:
    """``current`` plus the cancelled occurrences of ``more`` it lacks (compared as instants,
    whatever offset each was written with)."""
    seen = {time_key(parse_time(x)) for x in current}
    return [*current, *(x for x in more if time_key(parse_time(x)) not in seen)]
