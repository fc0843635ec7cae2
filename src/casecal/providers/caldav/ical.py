"""Canonical event <-> iCalendar (RFC 5545) calendar object resource, through ``icalendar``.

One resource holds one series: the master VEVENT and a VEVENT per changed occurrence
(``RECURRENCE-ID``, same UID; RFC 4791 §4.1). Cancelled occurrences are ``EXDATE``s on the
master. CaseCal's tag rides in the private property ``X-CASECAL-TAG``; the UID of an event
CaseCal creates is derived from the tag, so the same host entry on the same connection always
has the same UID and resource name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.cal.component import Component

from casecal.domain.event import RESPONSES, Attendee, CanonicalEvent, Override
from casecal.domain.recurrence import EventTime, Recurrence, align_time
from casecal.domain.tags import Tag, decode_tag_or_none
from casecal.domain.timezones import iana_name, zone
from casecal.errors import ValidationFailed

TAG_PROPERTY = "X-CASECAL-TAG"
PRODID = "-//CaseCal//CaseCal calendar sync//EN"
UID_NAMESPACE = uuid.UUID("0c6f2d7e-3b1a-5e8f-9a4d-7c2b1e0f5a63")
"""uuid5 namespace of the UIDs CaseCal gives the events it creates. Never change it: UIDs
already written use it, and a create after a crash finds its first attempt by it."""

_PARTSTAT = {
    "needsAction": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
}
_RESPONSE = {v: k for k, v in _PARTSTAT.items()}
_TZ_RANGE = (date(1970, 1, 1), date(2038, 1, 1))


class NotAnEvent(ValidationFailed):
    """A calendar object resource that holds no event CaseCal can read."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one resource says: its UID, the series (or single event) and CaseCal's tag."""

    uid: str
    event: CanonicalEvent
    tag: Tag | None


def caldav_uid(tag: Tag) -> str:
    """The UID of the event standing for ``tag``'s (connection, host entry)."""
    return f"casecal-{uuid.uuid5(UID_NAMESPACE, f'{tag.connection_id}/{tag.entry_id}')}"


def resource_name(tag: Tag) -> str:
    """The resource name (last path segment) of that event: its UID plus ``.ics``."""
    return f"{caldav_uid(tag)}.ics"


# -- writing -----------------------------------------------------------------------------
def to_ical(
    event: CanonicalEvent, tag: Tag | None, uid: str, *, now: datetime | None = None
) -> bytes:
    """The resource for ``event`` (a series with its overrides), with ``tag`` if given."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    zones: set[str] = set()
    master = _vevent(event, uid, stamp, zones)
    if tag is not None:
        master.add(TAG_PROPERTY, tag.encode())
    rec = event.recurrence
    if rec is not None:
        for rule in rec.rrules:
            master.add("RRULE", icalendar.vRecur.from_ical(rule))
        for rule in rec.exrules:
            master.add("EXRULE", icalendar.vRecur.from_ical(rule))
        for value in rec.rdates:
            master.add("RDATE", [_wire_time(value, event.tz, zones)])
        for value in rec.exdates:
            master.add("EXDATE", [_wire_time(value, event.tz, zones)])
    cal.add_component(master)
    for override in event.overrides:
        single = _vevent(override.event, uid, stamp, zones)
        single.add("RECURRENCE-ID", _wire_time(override.original_start, event.tz, zones))
        cal.add_component(single)
    for name in sorted(zones):
        cal.subcomponents.insert(0, _vtimezone(name))
    return bytes(cal.to_ical())


def _vevent(event: CanonicalEvent, uid: str, stamp: datetime, zones: set[str]) -> icalendar.Event:
    out = icalendar.Event()
    out.add("UID", uid)
    out.add("DTSTAMP", stamp)
    out.add("DTSTART", _wire_time(event.start, event.tz, zones))
    out.add("DTEND", _wire_time(event.end, event.tz, zones))
    out.add("SUMMARY", event.title)
    if event.description:
        out.add("DESCRIPTION", event.description)
    if event.location:
        out.add("LOCATION", event.location)
    out.add("CLASS", "PRIVATE" if event.private else "PUBLIC")
    out.add("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.categories:
        out.add("CATEGORIES", list(event.categories))
    for person in event.attendees:
        params: dict[str, str] = {
            "PARTSTAT": _PARTSTAT[person.response],
            # Store only: the server must not send invitations on our behalf (RFC 6638).
            "SCHEDULE-AGENT": "CLIENT",
            "RSVP": "FALSE",
        }
        if person.name:
            params["CN"] = person.name
        out.add("ATTENDEE", f"mailto:{person.email}", parameters=params)
    for minutes in event.reminders:
        alarm = icalendar.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", event.title or "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-minutes))
        out.add_component(alarm)
    return out


def _wire_time(value: EventTime, tz: str, zones: set[str]) -> EventTime:
    """A DATE stays a date; a date-time is written in its zone (TZID + VTIMEZONE), in UTC
    when the zone is UTC or the wall time is the second of a repeated hour."""
    if not isinstance(value, datetime):
        return value
    local = value.astimezone(zone(tz))
    if tz == "UTC" or (local.fold and local.replace(fold=0).utcoffset() != local.utcoffset()):
        return value.astimezone(UTC)
    zones.add(tz)
    return local


@lru_cache(maxsize=64)
def _vtimezone(name: str) -> Component:
    """The VTIMEZONE of an IANA zone, made once per zone (only ever read afterwards)."""
    return icalendar.Timezone.from_tzinfo(
        ZoneInfo(name), tzid=name, first_date=_TZ_RANGE[0], last_date=_TZ_RANGE[1]
    )


# -- reading -----------------------------------------------------------------------------
def from_ical(data: bytes | str, *, default_tz: str = "UTC") -> Parsed:
    """The series (master + overrides) a resource holds. ``default_tz`` is the zone of
    floating times and all-day events (the calendar's). Raises ``ValidationFailed`` (or
    ``NotAnEvent``) for what the canonical event cannot hold."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise NotAnEvent(f"unreadable iCalendar data: {exc}") from exc
    events = list(cal.walk("VEVENT"))
    if not events:
        raise NotAnEvent("the resource holds no VEVENT")
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    if len(masters) != 1:
        raise NotAnEvent("the resource holds occurrences without their series")
    master = masters[0]
    uid = str(master.get("UID", ""))
    status = str(master.get("STATUS", "")).upper()
    if status == "CANCELLED":
        raise NotAnEvent("the event is marked cancelled")
    base = _single(master, default_tz)
    recurrence = _recurrence(master, base.start, base.tz)
    overrides: list[Override] = []
    exdates: list[EventTime] = []
    for item in events:
        if item is master:
            continue
        rid = item.get("RECURRENCE-ID")
        if rid is not None and str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE":
            raise NotAnEvent("RECURRENCE-ID;RANGE=THISANDFUTURE is not supported")
        original = _time(item.decoded("RECURRENCE-ID"), base.tz)
        if str(item.get("STATUS", "")).upper() == "CANCELLED":
            exdates.append(original)
        else:
            overrides.append(Override(original, _single(item, base.tz)))
    if exdates:
        rec = recurrence or Recurrence()
        recurrence = Recurrence(rec.rrules, rec.exrules, rec.rdates, (*rec.exdates, *exdates))
    if (overrides or exdates) and not (recurrence and (recurrence.rrules or recurrence.rdates)):
        raise NotAnEvent("the resource holds occurrences of an event that does not repeat")
    tag = decode_tag_or_none(str(master.get(TAG_PROPERTY, "")) or None)
    event = CanonicalEvent(
        title=base.title,
        start=base.start,
        end=base.end,
        tz=base.tz,
        description=base.description,
        location=base.location,
        recurrence=recurrence,
        overrides=tuple(overrides),
        reminders=base.reminders,
        attendees=base.attendees,
        private=base.private,
        busy=base.busy,
        categories=base.categories,
        tag=tag,
    )
    return Parsed(uid=uid, event=event, tag=tag)


def tag_of(data: bytes | str) -> Tag | None:
    """CaseCal's tag in a resource, if it carries one (without reading the rest)."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError:
        return None
    for item in cal.walk("VEVENT"):
        if "RECURRENCE-ID" not in item:
            return decode_tag_or_none(str(item.get(TAG_PROPERTY, "")) or None)
    return None


def _single(item: Component, default_tz: str) -> CanonicalEvent:
    """One VEVENT as a single (non-repeating) canonical event."""
    if "DTSTART" not in item:
        raise NotAnEvent("a VEVENT without DTSTART")
    raw_start = item.decoded("DTSTART")
    tz = _zone_name(item, "DTSTART", raw_start, default_tz)
    start = _time(raw_start, tz)
    if "DTEND" in item:
        end = _time(item.decoded("DTEND"), tz)
    elif "DURATION" in item:
        duration = item.decoded("DURATION")
        end = start + duration if isinstance(duration, timedelta) else start
    else:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise NotAnEvent("DTSTART and DTEND differ in value type")
    return CanonicalEvent(
        title=_text(item.get("SUMMARY")),
        start=start,
        end=end,
        tz=tz,
        description=_text(item.get("DESCRIPTION")),
        location=_text(item.get("LOCATION")),
        reminders=_reminders(item),
        attendees=_attendees(item),
        private=str(item.get("CLASS", "PUBLIC")).upper() in ("PRIVATE", "CONFIDENTIAL"),
        busy=str(item.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT",
        categories=_categories(item),
    )


def _zone_name(item: Component, prop: str, value: Any, default_tz: str) -> str:
    """The IANA zone of a DTSTART: its zone's key, else its TZID (a Windows name mapped
    through CLDR), UTC for a UTC time, the calendar's zone for floating times and dates."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return default_tz
    key = getattr(value.tzinfo, "key", None)
    if isinstance(key, str) and iana_name(key) is not None:
        return iana_name(key) or "UTC"
    tzid = item[prop].params.get("TZID")
    if tzid:
        found = iana_name(str(tzid))
        if found is not None:
            return found
    if tzid is None:
        return "UTC"  # a UTC (or fixed-offset) time: the instant is what counts
    raise NotAnEvent(f"unknown time zone {tzid!r}")


def _time(value: Any, tz: str) -> EventTime:
    if isinstance(value, datetime):
        target = zone(tz)
        if value.tzinfo is None:
            return value.replace(tzinfo=target)
        return value.astimezone(target)
    if isinstance(value, date):
        return value
    raise NotAnEvent(f"not a date or date-time: {value!r}")


def _recurrence(item: Component, start: EventTime, tz: str) -> Recurrence | None:
    rrules = [_rule(v) for v in _many(item.get("RRULE"))]
    exrules = [_rule(v) for v in _many(item.get("EXRULE"))]
    rdates = _dates(item, "RDATE", start, tz)
    exdates = _dates(item, "EXDATE", start, tz)
    if not (rrules or exrules or rdates or exdates):
        return None
    return Recurrence(tuple(rrules), tuple(exrules), tuple(rdates), tuple(exdates))


def _rule(value: Any) -> str:
    return bytes(value.to_ical()).decode("ascii")


def _dates(item: Component, prop: str, start: EventTime, tz: str) -> list[EventTime]:
    out: list[EventTime] = []
    for entry in _many(item.get(prop)):
        if str(entry.params.get("VALUE", "")).upper() == "PERIOD":
            raise NotAnEvent(f"{prop} periods are not supported")
        for value in entry.dts:
            out.append(align_time(_time(value.dt, tz), start))
    return out


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _reminders(item: Component) -> tuple[int, ...]:
    """Alarms that fire a whole number of minutes before the start."""
    out: list[int] = []
    for alarm in item.walk("VALARM"):
        trigger = alarm.get("TRIGGER")
        if trigger is None or str(trigger.params.get("RELATED", "START")).upper() != "START":
            continue
        value = alarm.decoded("TRIGGER")
        if isinstance(value, timedelta) and value <= timedelta(0):
            seconds = int(-value.total_seconds())
            if seconds % 60 == 0:
                out.append(seconds // 60)
    return tuple(out)


def _attendees(item: Component) -> tuple[Attendee, ...]:
    out: list[Attendee] = []
    for entry in _many(item.get("ATTENDEE")):
        address = str(entry)
        if not address.lower().startswith("mailto:"):
            continue
        response = _RESPONSE.get(str(entry.params.get("PARTSTAT", "")).upper(), "needsAction")
        out.append(
            Attendee(
                email=address[len("mailto:") :],
                name=str(entry.params.get("CN", "")),
                response=response if response in RESPONSES else "needsAction",
            )
        )
    return tuple(out)


def _categories(item: Component) -> tuple[str, ...]:
    out: list[str] = []
    for entry in _many(item.get("CATEGORIES")):
        out.extend(str(c) for c in getattr(entry, "cats", []))
    return tuple(out)


__all__ = [
    "TAG_PROPERTY",
    "NotAnEvent",
    "Parsed",
    "caldav_uid",
    "from_ical",
    "resource_name",
    "tag_of",
    "to_ical",
]
