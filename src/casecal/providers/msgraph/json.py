"""Canonical event <-> Microsoft Graph event JSON (POST/PATCH bodies and ``$expand``ed responses).

Times go out as local wall time + Windows zone name; all-day events as midnight-to-midnight in
the event's zone with ``isAllDay``; the tag as a String named extended property in our namespace.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from casecal.domain.attendee_line import split_attendee_line, with_attendee_line
from casecal.domain.event import Attendee, CanonicalEvent, Override, Unrepresentable
from casecal.domain.recurrence import (
    EventTime,
    Recurrence,
    from_graph_recurrence,
    to_graph_recurrence,
)
from casecal.domain.tags import Tag, decode_tag_or_none
from casecal.domain.text import body_text
from casecal.domain.timezones import CUSTOM_ZONE, UnknownTimeZone, iana_name, windows_name, zone

TAG_NAMESPACE = uuid.UUID("8d3c1a6e-52f4-4b7a-9c0e-3f6a2d9b7e41")
"""CaseCal's own MAPI property-set GUID. Never change it: tags already written use it."""
TAG_PROPERTY_NAME = "CaseCalTag"
TAG_PROPERTY_ID = f"String {{{TAG_NAMESPACE}}} Name {TAG_PROPERTY_NAME}"
TAG_EXPAND = f"singleValueExtendedProperties($filter=id eq '{TAG_PROPERTY_ID}')"
"""The ``$expand`` value that makes Graph return our tag with an event."""
_RESPONSE_OUT = {
    "needsAction": "none",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
}
_RESPONSE_IN = {"accepted": "accepted", "organizer": "accepted", "declined": "declined"}
_RESPONSE_IN["tentativelyAccepted"] = "tentative"
_GRAPH_FORMAT = "%Y-%m-%dT%H:%M:%S.0000000"
_WALL_FORMAT = "%Y-%m-%dT%H:%M:%S"
_WALL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", re.ASCII)


def tag_filter(tag: Tag) -> str:
    """The ``$filter`` that finds the event carrying ``tag``."""
    value = tag.encode()
    return (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{TAG_PROPERTY_ID}' "
        f"and ep/value eq '{value}')"
    )


def to_graph(
    event: CanonicalEvent, tag: Tag | None = None, *, invite: bool = False
) -> dict[str, Any]:
    """The Graph event body of ``event`` (the series master for a recurring event).

    Graph holds one reminder: the earliest (largest minutes) is kept. Cancelled occurrences
    are not in the body; delete those occurrences after creating the series. Graph mails
    every attendee it is given, so unless ``invite`` the attendees are not written as such
    (existing ones are left alone) but as a last line of the body (``attendee_line``).
    """
    win = windows_name(event.tz)
    content = (
        event.description if invite else with_attendee_line(event.description, event.attendees)
    )
    body: dict[str, Any] = {
        "subject": event.title,
        "body": {"contentType": "text", "content": content},
        "location": {"displayName": event.location},
        "start": graph_time(event.start, event.tz),
        "end": graph_time(event.end, event.tz),
        "isAllDay": event.all_day,
        "isReminderOn": bool(event.reminders),
        "sensitivity": "private" if event.private else "normal",
        "showAs": "busy" if event.busy else "free",
        "categories": list(event.categories),
        "recurrence": None,
    }
    if invite:
        body["attendees"] = [_attendee_json(a) for a in event.attendees]
    if event.reminders:
        body["reminderMinutesBeforeStart"] = event.reminders[0]
    if event.recurrence is not None:
        if win is None and not event.all_day:
            raise Unrepresentable(
                f"zone {event.tz!r} has no Windows name, so Graph cannot expand the series in it",
                field="time_zone",
            )
        rec = Recurrence(event.recurrence.rrules, event.recurrence.exrules, event.recurrence.rdates)
        body["recurrence"] = to_graph_recurrence(rec, event.start, win or "UTC")
    effective_tag = tag or event.tag
    if effective_tag is not None:
        body["singleValueExtendedProperties"] = [
            {"id": TAG_PROPERTY_ID, "value": effective_tag.encode()}
        ]
    return body


def to_graph_override(override: Override, *, invite: bool = False) -> dict[str, Any]:
    """The PATCH body for one changed occurrence of a series (no recurrence, no tag)."""
    body = to_graph(override.event, invite=invite)
    del body["recurrence"]
    return body


def graph_time(value: EventTime, tz: str) -> dict[str, str]:
    """A Graph ``dateTimeTimeZone``: local wall time + Windows name, or UTC when the zone has
    no Windows name or the wall time is the second pass through a repeated hour."""
    win = windows_name(tz)
    if not isinstance(value, datetime):
        return {"dateTime": datetime.combine(value, time()).strftime(_GRAPH_FORMAT),
                "timeZone": win or "UTC"}  # fmt: skip
    repeated = value.fold == 1 and value.replace(fold=0).utcoffset() != value.utcoffset()
    if win is None or repeated:
        return {"dateTime": value.astimezone(UTC).strftime(_GRAPH_FORMAT), "timeZone": "UTC"}
    return {"dateTime": value.strftime(_GRAPH_FORMAT), "timeZone": win}


def format_original_start(value: EventTime, tz: str) -> str:
    """An ``originalStart`` as Graph writes it: the occurrence's UTC instant (for an all-day
    series, local midnight of that day in ``tz``)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), zone(tz))
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_original_start(data: dict[str, Any], *, tz: str, all_day: bool) -> EventTime | None:
    """An exception's ``originalStart`` in the series' terms: a datetime in ``tz``, or for an
    all-day series its date (the UTC date when the value is exactly UTC midnight, else the date
    in ``tz``)."""
    raw = data.get("originalStart")
    if not raw:
        return None
    moment = _parse_offset_datetime(str(raw))
    if not all_day:
        return moment.astimezone(zone(tz))
    utc = moment.astimezone(UTC)
    if utc.time() == time():
        return utc.date()
    return moment.astimezone(zone(tz)).date()


def from_graph(
    data: dict[str, Any],
    *,
    tz_hint: str | None = None,
    exceptions: Iterable[dict[str, Any]] = (),
    cancelled: Iterable[EventTime] = (),
) -> CanonicalEvent:
    """The canonical event of a Graph event (``$expand``ed with :data:`TAG_EXPAND` for the tag).

    ``tz_hint`` is the IANA zone we know for the event; it is kept when Graph's Windows name
    covers it. ``exceptions`` are the series' exception/occurrence items (cancelled ones become
    EXDATEs), ``cancelled`` the original starts of deleted occurrences, which Graph hides.
    """
    tz = event_zone(data, tz_hint=tz_hint)
    all_day = bool(data.get("isAllDay"))
    start = _parse_time(data.get("start") or {}, tz, all_day, tz_hint)
    end = _parse_time(data.get("end") or {}, tz, all_day, tz_hint)
    recurrence = None
    exdates: list[EventTime] = list(cancelled)
    overrides: list[Override] = []
    for item in exceptions:
        original = graph_original_start(item, tz=tz, all_day=all_day)
        if original is None:
            continue
        if item.get("isCancelled"):
            exdates.append(original)
        elif item.get("type", "exception") == "exception":
            single = from_graph(item, tz_hint=tz)
            overrides.append(Override(original, single))
    if data.get("recurrence"):
        rule = from_graph_recurrence(data["recurrence"], start)
        recurrence = Recurrence(rrules=(rule,), exdates=tuple(exdates))
    reminders = (int(data.get("reminderMinutesBeforeStart") or 0),)
    body = data.get("body") or {}
    text = body_text(str(body.get("content") or ""), str(body.get("contentType") or ""))
    description, listed = split_attendee_line(text)
    invited = tuple(_attendee(a) for a in data.get("attendees") or [] if _email(a))
    return CanonicalEvent(
        title=str(data.get("subject") or ""),
        description=description,
        location=str((data.get("location") or {}).get("displayName") or ""),
        start=start,
        end=end,
        tz=tz,
        recurrence=recurrence,
        overrides=tuple(overrides),
        reminders=reminders if data.get("isReminderOn") else (),
        attendees=invited + listed,
        private=data.get("sensitivity") in ("private", "confidential"),
        busy=data.get("showAs") != "free",
        categories=tuple(str(c) for c in data.get("categories") or []),
        tag=graph_tag(data),
    )


def graph_tag(data: dict[str, Any]) -> Tag | None:
    """CaseCal's tag from an event's ``$expand``ed ``singleValueExtendedProperties``."""
    for prop in data.get("singleValueExtendedProperties") or []:
        if _same_property_id(str(prop.get("id") or "")):
            return decode_tag_or_none(prop.get("value"))
    return None


def event_zone(data: dict[str, Any], *, tz_hint: str | None = None) -> str:
    """The IANA zone of a Graph event.

    The first of start, end, recurrence and original zones that names a real zone other than
    UTC wins (the hint when it shares the Windows name); else UTC if the original zone says
    UTC; else the hint; else UTC. Outlook's custom zone and unknown names name nothing.
    """
    candidates = [
        (data.get("start") or {}).get("timeZone"),
        (data.get("end") or {}).get("timeZone"),
        ((data.get("recurrence") or {}).get("range") or {}).get("recurrenceTimeZone"),
        data.get("originalStartTimeZone"),
        data.get("originalEndTimeZone"),
    ]
    for name in candidates:
        found = iana_name(str(name or ""), hint=tz_hint)
        if found is not None and found != "UTC":
            return found
    if iana_name(str(data.get("originalStartTimeZone") or "")) == "UTC":
        return "UTC"
    return tz_hint or "UTC"


def _parse_time(data: dict[str, Any], tz: str, all_day: bool, hint: str | None) -> EventTime:
    text = str(data.get("dateTime") or "")
    if len(text) < 19:
        raise UnknownTimeZone(f"bad Graph dateTime {text!r}")
    if all_day:  # midnight in the event's zone: the date as written, never shifted
        return date.fromisoformat(text[:10])
    label = str(data.get("timeZone") or "UTC")
    source = iana_name(label, hint=hint or tz)
    if source is None or label == CUSTOM_ZONE:
        raise UnknownTimeZone(label)
    wall = _wall_time(text[:19])
    return wall.replace(tzinfo=zone(source)).astimezone(zone(tz))


def _wall_time(head: str) -> datetime:
    """``datetime.strptime(head, "%Y-%m-%dT%H:%M:%S")``; ``fromisoformat`` (a tenth of the
    CPU) for the shape Graph writes, where the two agree on every value and every error."""
    if _WALL.fullmatch(head):
        return datetime.fromisoformat(head)
    return datetime.strptime(head, _WALL_FORMAT)


def _parse_offset_datetime(text: str) -> datetime:
    head, rest = text[:19], text[19:]
    if rest.startswith("."):
        rest = rest.lstrip(".0123456789")
    moment = _wall_time(head)
    if rest in ("", "Z", "z"):
        return moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(f"{head}{rest}")


def _same_property_id(value: str) -> bool:
    parts = value.split()
    want = TAG_PROPERTY_ID.split()
    return (
        len(parts) == 4
        and parts[0].lower() == "string"
        and parts[1].strip("{}").lower() == str(TAG_NAMESPACE)
        and parts[2].lower() == "name"
        and parts[3] == want[3]
    )


def _attendee_json(person: Attendee) -> dict[str, Any]:
    return {
        "emailAddress": {"address": person.email, "name": person.name},
        "type": "required",
        "status": {"response": _RESPONSE_OUT[person.response]},
    }


def _email(data: dict[str, Any]) -> str:
    return str((data.get("emailAddress") or {}).get("address") or "")


def _attendee(data: dict[str, Any]) -> Attendee:
    response = str((data.get("status") or {}).get("response") or "none")
    return Attendee(
        email=_email(data),
        name=str((data.get("emailAddress") or {}).get("name") or ""),
        response=_RESPONSE_IN.get(response, "needsAction"),
    )
