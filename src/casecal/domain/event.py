"""The canonical event every provider's JSON is translated to and from, and its fingerprint.

Values are normalised on construction (times in the event's zone, lists sorted, rules in
canonical form), so two equal events mean the same thing on every calendar.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from casecal.domain.recurrence import EventTime, Recurrence, align_time, time_key
from casecal.domain.tags import Tag
from casecal.domain.timezones import windows_name, zone
from casecal.errors import ValidationFailed

FINGERPRINT_VERSION = 1
RESPONSES = ("needsAction", "accepted", "declined", "tentative")


class InvalidEvent(ValidationFailed):
    """A canonical event whose values contradict each other (e.g. end before start)."""


class Unrepresentable(ValidationFailed):
    """An event a provider cannot hold without changing it (e.g. six Google reminders)."""


@dataclass(frozen=True)
class Attendee:
    """An invited person. ``response`` travels but is not part of the fingerprint."""

    email: str
    name: str = ""
    response: str = "needsAction"

    def __post_init__(self) -> None:
        if self.response not in RESPONSES:
            raise InvalidEvent(f"unknown attendee response {self.response!r}", field="attendees")


@dataclass(frozen=True)
class Override:
    """One occurrence of a series changed on its own, keyed by its original start."""

    original_start: EventTime
    event: CanonicalEvent


@dataclass(frozen=True)
class CanonicalEvent:
    """A calendar event as CaseCal sees it, independent of any provider.

    ``start``/``end`` are aware datetimes (in ``tz``) or dates for all-day events, the end
    exclusive. Cancelled occurrences of a series are its ``recurrence.exdates``.
    """

    title: str
    start: EventTime
    end: EventTime
    tz: str
    description: str = ""
    location: str = ""
    recurrence: Recurrence | None = None
    overrides: tuple[Override, ...] = ()
    reminders: tuple[int, ...] = ()
    """Minutes before the start, largest first."""
    attendees: tuple[Attendee, ...] = ()
    private: bool = False
    busy: bool = True
    categories: tuple[str, ...] = ()
    tag: Tag | None = None

    def __post_init__(self) -> None:
        tzinfo = zone(self.tz)
        start, end = self.start, self.end
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise InvalidEvent("start and end must both be dates or both date-times", field="end")
        if isinstance(start, datetime) and isinstance(end, datetime):
            if start.tzinfo is None or end.tzinfo is None:
                raise InvalidEvent("date-times must carry a time zone", field="start")
            start = start.astimezone(tzinfo).replace(microsecond=0)
            end = end.astimezone(tzinfo).replace(microsecond=0)
            if end < start:
                raise InvalidEvent("the event ends before it starts", field="end")
        elif end <= start:
            raise InvalidEvent("an all-day event ends (exclusive) after its start", field="end")
        if any(m < 0 for m in self.reminders):
            raise InvalidEvent("reminders are minutes before the start, >= 0", field="reminders")
        recurrence = self.recurrence
        if recurrence is not None:
            recurrence = recurrence.normalised(start)
            if not (recurrence.rrules or recurrence.rdates):
                recurrence = None
        elif self.overrides:
            raise InvalidEvent("only a recurring event has overrides", field="overrides")
        overrides: dict[str, Override] = {}
        for item in self.overrides:
            if item.event.recurrence is not None or item.event.overrides:
                raise InvalidEvent("an override is a single occurrence", field="overrides")
            key_time = align_time(item.original_start, start)
            single = item.event if item.event.tag is None else replace(item.event, tag=None)
            overrides.setdefault(time_key(key_time), Override(key_time, single))
        attendees: dict[str, Attendee] = {}
        for person in self.attendees:
            attendees.setdefault(person.email.strip().casefold(), person)
        values = {
            "start": start,
            "end": end,
            "recurrence": recurrence,
            "overrides": tuple(overrides[k] for k in sorted(overrides)),
            "reminders": tuple(sorted(set(self.reminders), reverse=True)),
            "attendees": tuple(attendees[k] for k in sorted(attendees)),
            "categories": tuple(sorted(set(self.categories))),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def all_day(self) -> bool:
        """Whether the event spans whole days (``start``/``end`` are dates)."""
        return not isinstance(self.start, datetime)

    @property
    def cancelled(self) -> tuple[EventTime, ...]:
        """Original starts of the cancelled occurrences of a series."""
        return self.recurrence.exdates if self.recurrence else ()

    def override_for(self, original_start: EventTime) -> Override | None:
        """The override of the occurrence originally at ``original_start``, if any."""
        key = time_key(align_time(original_start, self.start))
        return next((o for o in self.overrides if time_key(o.original_start) == key), None)

    def with_tag(self, tag: Tag | None) -> CanonicalEvent:
        """A copy carrying ``tag``."""
        return replace(self, tag=tag)

    def fingerprint(self) -> str:
        """Stable sha256 (hex) of the mapped fields only: not the tag, not attendee responses."""
        blob = json.dumps(_fields(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def clean_text(text: str) -> str:
    """Text as compared: ``\\r\\n`` -> ``\\n``, trailing spaces and blank edge lines removed."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _zone_key(tz: str) -> str:
    return windows_name(tz) or tz


def _when(value: EventTime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return date.isoformat(value)


def _fields(event: CanonicalEvent) -> dict[str, Any]:
    rec = event.recurrence
    return {
        "v": FINGERPRINT_VERSION,
        "title": event.title.strip(),
        "description": clean_text(event.description),
        "location": event.location.strip(),
        "start": _when(event.start),
        "end": _when(event.end),
        "tz": None if event.all_day else _zone_key(event.tz),
        "recurrence": None
        if rec is None
        else {
            "rrules": list(rec.rrules),
            "exrules": list(rec.exrules),
            "rdates": [_when(t) for t in rec.rdates],
            "exdates": [_when(t) for t in rec.exdates],
        },
        "overrides": [[_when(o.original_start), _fields(o.event)] for o in event.overrides],
        "reminders": list(event.reminders),
        "attendees": [[a.email.strip().casefold(), a.name.strip()] for a in event.attendees],
        "private": event.private,
        "busy": event.busy,
        "categories": list(event.categories),
    }
