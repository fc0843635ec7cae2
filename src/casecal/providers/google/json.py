"""Canonical event <-> Google Calendar v3 event JSON (events.insert/update bodies and responses).

The tag rides in ``extendedProperties.private``; recurring series are a master with RFC 5545
lines plus exception instances keyed by ``recurringEventId`` + ``originalStartTime``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from casecal.domain.entries import EntryKind
from casecal.domain.event import RESPONSES, Attendee, CanonicalEvent, Override, Unrepresentable
from casecal.domain.recurrence import BadRecurrence, EventTime, Recurrence
from casecal.domain.tags import Tag
from casecal.domain.timezones import require_iana_name, zone
from casecal.errors import ValidationFailed

KEY_ENTRY = "casecalEntryId"
KEY_KIND = "casecalKind"
KEY_CONNECTION = "casecalConnectionId"
KEY_CATEGORIES = "casecalCategories"
PRIVATE_KEYS = (KEY_ENTRY, KEY_KIND, KEY_CONNECTION, KEY_CATEGORIES)
MAX_KEY_LENGTH = 44
"""Google silently drops private property keys longer than this."""
MAX_VALUE_LENGTH = 1024
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 40320


@dataclass(frozen=True)
class GoogleTombstone:
    """A ``status: cancelled`` item: a cancelled occurrence of a live series when
    ``recurring_event_id`` is set, else a deleted event."""

    event_id: str
    recurring_event_id: str | None
    original_start: EventTime | None

    @property
    def is_cancelled_occurrence(self) -> bool:
        """Whether this hides one occurrence of a series rather than deleting an event."""
        return self.recurring_event_id is not None


def to_google(
    event: CanonicalEvent, tag: Tag | None = None, *, event_id: str | None = None
) -> dict[str, Any]:
    """The Google event body of ``event`` (for a series, the master; see to_google_override)."""
    if len(event.reminders) > MAX_REMINDERS:
        raise Unrepresentable(f"Google takes at most {MAX_REMINDERS} reminders", field="reminders")
    if any(m > MAX_REMINDER_MINUTES for m in event.reminders):
        raise Unrepresentable("Google reminders are at most 4 weeks ahead", field="reminders")
    body: dict[str, Any] = {
        "summary": event.title,
        "description": event.description,
        "location": event.location,
        "start": _time_json(event.start, event.tz),
        "end": _time_json(event.end, event.tz),
        "reminders": {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": m} for m in event.reminders],
        },
        "attendees": [_attendee_json(a) for a in event.attendees],
        "visibility": "private" if event.private else "default",
        "transparency": "opaque" if event.busy else "transparent",
        "extendedProperties": {"private": _private_properties(tag or event.tag, event)},
    }
    if event.recurrence is not None:
        body["recurrence"] = recurrence_lines(event.recurrence, event.tz)
    if event_id is not None:
        body["id"] = event_id
    return body


def to_google_override(
    override: Override, *, master_id: str, series_tz: str, tag: Tag | None = None
) -> dict[str, Any]:
    """The body of one changed instance of series ``master_id`` (PATCH/PUT on the instance id)."""
    body = to_google(override.event, tag)
    body["recurringEventId"] = master_id
    body["originalStartTime"] = _time_json(override.original_start, series_tz)
    return body


def google_instance_id(master_id: str, original_start: EventTime) -> str:
    """The id Google gives the instance of ``master_id`` originally at ``original_start``."""
    if isinstance(original_start, datetime):
        return f"{master_id}_{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{master_id}_{original_start:%Y%m%d}"


def from_google(
    data: dict[str, Any],
    *,
    default_tz: str,
    default_reminders: tuple[int, ...] = (),
    instances: tuple[dict[str, Any], ...] = (),
) -> CanonicalEvent:
    """The canonical event of a live Google event (and of its exception ``instances``).

    ``default_tz`` is the calendar's zone (all-day events carry none); ``default_reminders``
    the calendar's defaults, used when the event says ``useDefault``. Cancelled instances
    become EXDATEs, the others overrides.
    """
    if data.get("status") == "cancelled":
        raise ValidationFailed("a cancelled Google event is a tombstone, not an event")
    start_json, end_json = data.get("start") or {}, data.get("end") or {}
    tz = require_iana_name(start_json.get("timeZone") or end_json.get("timeZone") or default_tz)
    start, end = _parse_time(start_json, tz), _parse_time(end_json, tz)
    recurrence = parse_recurrence_lines(data.get("recurrence") or [], start, tz)
    overrides: list[Override] = []
    for item in instances:
        original = google_original_start(item, tz)
        if original is None:
            continue
        if item.get("status") == "cancelled":
            recurrence = _with_exdate(recurrence, original)
        else:
            single = from_google(item, default_tz=tz, default_reminders=default_reminders)
            overrides.append(Override(original, single))
    extended = (data.get("extendedProperties") or {}).get("private") or {}
    return CanonicalEvent(
        title=str(data.get("summary") or ""),
        description=str(data.get("description") or ""),
        location=str(data.get("location") or ""),
        start=start,
        end=end,
        tz=tz,
        recurrence=recurrence,
        overrides=tuple(overrides),
        reminders=_reminders(data.get("reminders") or {}, default_reminders),
        attendees=tuple(_attendee(a) for a in data.get("attendees") or [] if a.get("email")),
        private=data.get("visibility") in ("private", "confidential"),
        busy=data.get("transparency") != "transparent",
        categories=_categories(extended.get(KEY_CATEGORIES)),
        tag=google_tag(data),
    )


def google_tag(data: dict[str, Any]) -> Tag | None:
    """CaseCal's tag from a Google event's private extended properties, if it is ours."""
    props = (data.get("extendedProperties") or {}).get("private") or {}
    try:
        return Tag(
            entry_id=_uuid(props[KEY_ENTRY]),
            kind=EntryKind(props[KEY_KIND]),
            connection_id=_uuid(props[KEY_CONNECTION]),
        )
    except (KeyError, ValueError):
        return None


def google_tombstone(data: dict[str, Any], *, default_tz: str = "UTC") -> GoogleTombstone | None:
    """The tombstone of a ``status: cancelled`` item, or ``None`` for a live event."""
    if data.get("status") != "cancelled":
        return None
    return GoogleTombstone(
        event_id=str(data.get("id") or ""),
        recurring_event_id=data.get("recurringEventId"),
        original_start=google_original_start(data, default_tz),
    )


def google_original_start(data: dict[str, Any], default_tz: str) -> EventTime | None:
    """An instance's ``originalStartTime`` as an aware datetime or a date, if it has one."""
    original = data.get("originalStartTime")
    if not original:
        return None
    return _parse_time(original, require_iana_name(original.get("timeZone") or default_tz))


def recurrence_lines(rec: Recurrence, tz: str) -> list[str]:
    """RFC 5545 lines for Google's ``recurrence`` field (no DTSTART, which Google forbids)."""
    lines = [f"RRULE:{r}" for r in rec.rrules] + [f"EXRULE:{r}" for r in rec.exrules]
    lines += [_date_line("RDATE", t, tz) for t in rec.rdates]
    lines += [_date_line("EXDATE", t, tz) for t in rec.exdates]
    return lines


def parse_recurrence_lines(lines: list[str], start: EventTime, tz: str) -> Recurrence | None:
    """The recurrence of Google's ``recurrence`` lines (RRULE, EXRULE, RDATE, EXDATE)."""
    if not lines:
        return None
    rrules: list[str] = []
    exrules: list[str] = []
    rdates: list[EventTime] = []
    exdates: list[EventTime] = []
    for line in lines:
        head, _, value = line.strip().partition(":")
        name = head.upper().split(";")[0]
        if name == "RRULE":
            rrules.append(value)
        elif name == "EXRULE":
            exrules.append(value)
        elif name in ("RDATE", "EXDATE"):
            target = rdates if name == "RDATE" else exdates
            target.extend(_parse_dates(head, value, tz))
        else:
            raise BadRecurrence(f"unsupported recurrence line {line!r}")
    return Recurrence(tuple(rrules), tuple(exrules), tuple(rdates), tuple(exdates))


def _with_exdate(rec: Recurrence | None, value: EventTime) -> Recurrence:
    base = rec or Recurrence()
    return Recurrence(base.rrules, base.exrules, base.rdates, (*base.exdates, value))


def _time_json(value: EventTime, tz: str) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat(), "timeZone": tz}
    return {"date": value.isoformat()}


def _parse_time(data: dict[str, Any], tz: str) -> EventTime:
    if data.get("date"):
        return date.fromisoformat(str(data["date"]))
    if not data.get("dateTime"):
        raise ValidationFailed("a Google event time has neither date nor dateTime")
    moment = datetime.fromisoformat(str(data["dateTime"]))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(require_iana_name(data.get("timeZone") or tz)))
    return moment.astimezone(zone(tz))


def _date_line(name: str, value: EventTime, tz: str) -> str:
    if not isinstance(value, datetime):
        return f"{name};VALUE=DATE:{value:%Y%m%d}"
    if value.fold and value.replace(fold=0).utcoffset() != value.utcoffset():
        return f"{name}:{value.astimezone(UTC):%Y%m%dT%H%M%SZ}"  # repeated hour: say which one
    return f"{name};TZID={tz}:{value:%Y%m%dT%H%M%S}"


def _parse_dates(head: str, value: str, tz: str) -> list[EventTime]:
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    if params.get("VALUE", "").upper() == "PERIOD":
        raise BadRecurrence("RDATE periods are not supported")
    tzinfo = zone(require_iana_name(params["TZID"])) if "TZID" in params else zone(tz)
    out: list[EventTime] = []
    for item in filter(None, (v.strip() for v in value.split(","))):
        try:
            if "T" not in item:
                out.append(datetime.strptime(item, "%Y%m%d").date())
            elif item.endswith("Z"):
                out.append(datetime.strptime(item, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
            else:
                out.append(datetime.strptime(item, "%Y%m%dT%H%M%S").replace(tzinfo=tzinfo))
        except ValueError as exc:
            raise BadRecurrence(f"bad date in recurrence line: {item!r}") from exc
    return out


def _attendee_json(person: Attendee) -> dict[str, Any]:
    out: dict[str, Any] = {"email": person.email, "responseStatus": person.response}
    if person.name:
        out["displayName"] = person.name
    return out


def _attendee(data: dict[str, Any]) -> Attendee:
    response = str(data.get("responseStatus") or "needsAction")
    return Attendee(
        email=str(data["email"]),
        name=str(data.get("displayName") or ""),
        response=response if response in RESPONSES else "needsAction",
    )


def _reminders(data: dict[str, Any], defaults: tuple[int, ...]) -> tuple[int, ...]:
    if data.get("useDefault"):
        return defaults
    return tuple(int(o["minutes"]) for o in data.get("overrides") or [] if "minutes" in o)


def _private_properties(tag: Tag | None, event: CanonicalEvent) -> dict[str, str]:
    props: dict[str, str] = {}
    if tag is not None:
        props.update(
            {
                KEY_ENTRY: str(tag.entry_id),
                KEY_KIND: tag.kind.value,
                KEY_CONNECTION: str(tag.connection_id),
            }
        )
    if event.categories:
        value = json.dumps(list(event.categories), ensure_ascii=False)
        if len(value) > MAX_VALUE_LENGTH:
            raise Unrepresentable("too many categories for Google", field="categories")
        props[KEY_CATEGORIES] = value
    return props


def _categories(value: Any) -> tuple[str, ...]:
    try:
        items = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        return ()
    return tuple(str(i) for i in items) if isinstance(items, list) else ()


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))
