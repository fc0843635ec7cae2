"""The canonical event every provider's JSON is translated to and from, and its fingerprint.

Values are normalised on construction (times in the event's zone, lists sorted, rules in
canonical form), so two equal events mean the same thing on every calendar.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

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


def real_time(value: datetime) -> datetime:
    """``value`` itself, unless its wall time does not exist in its zone (skipped by a
    daylight-saving change); then the time the same instant has there, as providers read it."""
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    if back.replace(tzinfo=None) == value.replace(tzinfo=None):
        return value
    return back


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

    The event is immutable, so its fingerprint is computed once and kept in a slot outside
    the fields (not compared, not copied, not pickled).
    """

    __slots__ = ("__dict__", "__weakref__", "_fingerprint")

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
            # astimezone() to the zone a value already carries returns it unchanged, so a wall
            # time the zone skips (02:30 on a spring-forward night) is made real as every
            # provider reads it: through UTC, 03:30.
            start = start.astimezone(tzinfo) if start.tzinfo is not tzinfo else real_time(start)
            if start.microsecond:
                start = start.replace(microsecond=0)
            end = end.astimezone(tzinfo) if end.tzinfo is not tzinfo else real_time(end)
            if end.microsecond:
                end = end.replace(microsecond=0)
            if end < start:
                raise InvalidEvent("the event ends before it starts", field="end")
        elif end <= start:
            raise InvalidEvent("an all-day event ends (exclusive) after its start", field="end")
        reminders = self.reminders
        if reminders:
            if min(reminders) < 0:
                raise InvalidEvent(
                    "reminders are minutes before the start, >= 0", field="reminders"
                )
            if len(reminders) > 1:
                reminders = tuple(sorted(set(reminders), reverse=True))
        recurrence = self.recurrence
        if recurrence is not None:
            recurrence = recurrence.normalised(start)
            if not (recurrence.rrules or recurrence.rdates):
                recurrence = None
        elif self.overrides:
            raise InvalidEvent("only a recurring event has overrides", field="overrides")
        set_field = object.__setattr__
        if self.overrides:
            overrides: dict[str, Override] = {}
            for item in self.overrides:
                if item.event.recurrence is not None or item.event.overrides:
                    raise InvalidEvent("an override is a single occurrence", field="overrides")
                key_time = align_time(item.original_start, start)
                single = item.event if item.event.tag is None else item.event.with_tag(None)
                overrides.setdefault(time_key(key_time), Override(key_time, single))
            set_field(self, "overrides", tuple(overrides[k] for k in sorted(overrides)))
        else:
            set_field(self, "overrides", ())
        if self.attendees:
            attendees: dict[str, Attendee] = {}
            for person in self.attendees:
                attendees.setdefault(person.email.strip().casefold(), person)
            set_field(self, "attendees", tuple(attendees[k] for k in sorted(attendees)))
        else:
            set_field(self, "attendees", ())
        categories = self.categories
        if len(categories) > 1:
            categories = tuple(sorted(set(categories)))
        set_field(self, "start", start)
        set_field(self, "end", end)
        set_field(self, "recurrence", recurrence)
        set_field(self, "reminders", tuple(reminders))
        set_field(self, "categories", tuple(categories))

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
        """A copy carrying ``tag``: ``replace(self, tag=tag)`` without normalising the values
        again (they are; the tag takes no part in it), and with the fingerprint kept."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        object.__setattr__(copy, "tag", tag)
        known = getattr(self, "_fingerprint", None)
        if known is not None:
            object.__setattr__(copy, "_fingerprint", known)
        return copy

    def fingerprint(self) -> str:
        """Stable sha256 (hex) of the mapped fields only: not the tag, not attendee responses."""
        known: str | None = getattr(self, "_fingerprint", None)
        if known is None:
            known = hashlib.sha256(_canonical_json(_fields(self))).hexdigest()
            object.__setattr__(self, "_fingerprint", known)
        return known

    def __getstate__(self) -> dict[str, Any]:
        """The fields only (copies and pickles leave the kept fingerprint behind)."""
        return self.__dict__


def _canonical_json(fields: dict[str, Any]) -> bytes:
    """``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in
    UTF-8, the bytes every stored fingerprint was taken of. orjson writes the same bytes for
    these values (str, int, bool, None, lists and dicts with ASCII keys; the pinned corpus in
    tests/unit/domain/test_fingerprint_corpus.py guards it); what it refuses (integers past
    64 bits, lone surrogates) goes the slow way and behaves as it always did."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def clean_text(text: str) -> str:
    """Text as compared: ``\\r\\n`` -> ``\\n``, trailing spaces and blank edge lines removed."""
    if "\n" not in text and "\r" not in text:
        return text.rstrip()  # one line: what the general case gives it
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _zone_key(tz: str) -> str:
    return windows_name(tz) or tz


def _when(value: EventTime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return date.isoformat(value)


def _fields(event: CanonicalEvent) -> dict[str, Any]:
    """What the fingerprint covers (tuples are written as JSON arrays, as lists are)."""
    rec = event.recurrence
    start = event.start
    timed = isinstance(start, datetime)  # not all-day
    return {
        "v": FINGERPRINT_VERSION,
        "title": event.title.strip(),
        "description": clean_text(event.description),
        "location": event.location.strip(),
        "start": _when(start),
        "end": _when(event.end),
        "tz": _zone_key(event.tz) if timed else None,
        "recurrence": None
        if rec is None
        else {
            "rrules": rec.rrules,
            "exrules": rec.exrules,
            "rdates": [_when(t) for t in rec.rdates],
            "exdates": [_when(t) for t in rec.exdates],
        },
        "overrides": [[_when(o.original_start), _fields(o.event)] for o in event.overrides],
        "reminders": event.reminders,
        "attendees": [[a.email.strip().casefold(), a.name.strip()] for a in event.attendees],
        "private": event.private,
        "busy": event.busy,
        "categories": event.categories,
    }
