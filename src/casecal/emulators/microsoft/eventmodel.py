"""Validation of event bodies written by clients (POST/PATCH) and their application to a stored
event. Everything is checked before anything is assigned, so a refused write changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from casecal.emulators.microsoft import recurrence as rec
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.state import StoredEvent
from casecal.emulators.microsoft.tz import format_local, parse_local, resolve_zone

ENUMS = {
    "showAs": {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"},
    "sensitivity": {"normal", "personal", "private", "confidential"},
    "importance": {"low", "normal", "high"},
}
BOOLS = {
    "isReminderOn",
    "responseRequested",
    "allowNewTimeProposals",
    "hideAttendees",
    "isOnlineMeeting",
}
WRITABLE = {
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "locations",
    "attendees",
    "categories",
    "reminderMinutesBeforeStart",
    "recurrence",
    "transactionId",
    "singleValueExtendedProperties",
    "onlineMeetingProvider",
    *ENUMS,
    *BOOLS,
}
READ_ONLY = {
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "uid",
    "bodyPreview",
    "type",
    "seriesMasterId",
    "originalStart",
    "webLink",
    "organizer",
    "isOrganizer",
    "responseStatus",
    "hasAttachments",
    "isCancelled",
    "onlineMeeting",
    "onlineMeetingUrl",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "isDraft",
    "occurrenceId",
    "cancelledOccurrences",
    "exceptionOccurrences",
}
EXTENDED_ID = re.compile(
    r"^(String|Integer|Boolean|SystemTime|Double|Binary|Guid|Long|Short|Currency|Float) "
    r"(?:\{([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\} "
    r"(Name|Id) (\S.*)|(0x[0-9a-fA-F]{4}))$"
)


def bad(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def extended_key(prop_id: str) -> str:
    """Normalised id of an extended property: type and GUID case-insensitive, name not."""
    match = EXTENDED_ID.match(prop_id.strip())
    if match is None:
        raise bad(f"The extended property id '{prop_id}' is not valid.", "ErrorInvalidProperty")
    kind, guid, how, name, tag = match.groups()
    if tag:
        return f"{kind.lower()} {tag.lower()}"
    return f"{kind.lower()} {{{guid.lower()}}} {how.lower()} {name}"


def _zone_name(spec: object, which: str) -> tuple[str, str]:
    if not isinstance(spec, dict) or not isinstance(spec.get("timeZone"), str):
        raise bad(f"'{which}' must be a dateTimeTimeZone with dateTime and timeZone.")
    if spec.get("dateTime") in (None, ""):
        raise bad(f"'{which}.dateTime' is required.")
    return str(spec["dateTime"]), spec["timeZone"]


def _current_spec(event: StoredEvent, which: str) -> dict[str, str]:
    value, zone = (event.start, event.start_tz) if which == "start" else (event.end, event.end_tz)
    if isinstance(value, datetime):
        return format_local(value, zone)
    return {"dateTime": f"{value.isoformat()}T00:00:00", "timeZone": zone}


def _times(event: StoredEvent, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    if creating and ("start" not in body or "end" not in body):
        raise bad("An event needs both 'start' and 'end'.")
    all_day = body.get("isAllDay", event.is_all_day)
    if not isinstance(all_day, bool):
        raise bad("'isAllDay' must be a boolean.")
    start_value, start_tz = _zone_name(body.get("start") or _current_spec(event, "start"), "start")
    end_value, end_tz = _zone_name(body.get("end") or _current_spec(event, "end"), "end")
    start, end = parse_local(start_value, start_tz), parse_local(end_value, end_tz)
    if all_day:
        if start.time() != time(0) or end.time() != time(0):
            raise bad(
                "Your request can't be completed. If the event is an all-day event, start "
                "and end must be at midnight (00:00:00) of their time zone.",
            )
        if start_tz != end_tz:
            raise bad("An all-day event must have the same time zone for start and end.")
        if end.date() <= start.date():
            raise bad("The end date of an all-day event must be after its start date.")
        return {
            "start": start.date(),
            "end": end.date(),
            "start_tz": start_tz,
            "end_tz": end_tz,
            "is_all_day": True,
        }
    if end < start:
        raise bad("The end time of the event must not be before its start time.")
    return {"start": start, "end": end, "start_tz": start_tz, "end_tz": end_tz, "is_all_day": False}


def _location(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("displayName", ""), str):
        raise bad("'location' must be an object with a string displayName.")
    name = value.get("displayName", "")
    return {
        "locationType": "default",
        "uniqueIdType": "private" if name else "unknown",
        "uniqueId": name or None,
        **value,
        "displayName": name,
    }


def _attendee(value: object) -> dict[str, Any]:
    email = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(email, dict) or not isinstance(email.get("address"), str):
        raise bad("Each attendee needs emailAddress.address.")
    kind = value.get("type", "required") if isinstance(value, dict) else "required"
    if kind not in ("required", "optional", "resource"):
        raise bad(f"Attendee type '{kind}' is not valid.")
    return {
        "type": kind,
        "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
        "emailAddress": {"name": email.get("name", email["address"]), "address": email["address"]},
    }


def _props(body: dict[str, Any]) -> dict[str, Any]:
    """The plain writable properties of a body, validated and normalised."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in (
            "start",
            "end",
            "isAllDay",
            "recurrence",
            "transactionId",
            "singleValueExtendedProperties",
        ):
            continue
        if key in ENUMS and value not in ENUMS[key]:
            raise bad(f"'{value}' is not a valid value for '{key}'.")
        if key in BOOLS and not isinstance(value, bool):
            raise bad(f"'{key}' must be a boolean.")
        if key == "subject" and not isinstance(value, str | None):
            raise bad("'subject' must be a string.")
        if key == "body":
            kind = str(value.get("contentType", "")).lower() if isinstance(value, dict) else ""
            if kind not in ("text", "html") or not isinstance(value.get("content", ""), str):
                raise bad("'body' needs contentType 'text' or 'html' and a string content.")
            value = {"contentType": kind, "content": value.get("content", "")}
        if key == "categories" and not (
            isinstance(value, list) and all(isinstance(c, str) for c in value)
        ):
            raise bad("'categories' must be a list of strings.")
        if key == "reminderMinutesBeforeStart" and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise bad("'reminderMinutesBeforeStart' must be a non-negative integer.")
        if key == "location":
            value = _location(value)
            out["locations"] = [value] if value["displayName"] else []
        if key == "locations":
            if not isinstance(value, list):
                raise bad("'locations' must be a list.")
            value = [_location(v) for v in value]
            out["location"] = value[0] if value else _location({"displayName": ""})
        if key == "attendees":
            if not isinstance(value, list):
                raise bad("'attendees' must be a list.")
            value = [_attendee(a) for a in value]
        out[key] = value
    return out


def _extended(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    items = body.get("singleValueExtendedProperties", [])
    if not isinstance(items, list):
        raise bad("'singleValueExtendedProperties' must be a list.")
    out: dict[str, tuple[str, str]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise bad("Each singleValueExtendedProperty needs an 'id'.")
        if not isinstance(item.get("value"), str):
            raise bad("A singleValueExtendedProperty value must be a string.")
        out[extended_key(item["id"])] = (item["id"], item["value"])
    return out


def check_keys(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.", "RequestBodyRead")
    for key in body:
        if key.startswith("@odata."):
            continue
        if key in READ_ONLY:
            raise bad(
                f"The property '{key}' is read-only and cannot be set.",
                "ErrorInvalidPropertyForOperation",
            )
        if key not in WRITABLE:
            raise bad(
                f"The property '{key}' does not exist on type 'microsoft.graph.event'. Make "
                "sure to only use property names that are defined by the type.",
                "RequestBodyRead",
            )
    return {k: v for k, v in body.items() if not k.startswith("@odata.")}


def apply_body(event: StoredEvent, raw: object, *, creating: bool, instance: bool) -> None:
    """Validate ``raw`` (a POST or PATCH body) and apply it to ``event``."""
    body = check_keys(raw)
    times = (
        _times(event, body, creating)
        if creating or {"start", "end", "isAllDay"} & set(body)
        else None
    )
    props = _props(body)
    extended = _extended(body)
    recurrence = event.recurrence
    if "recurrence" in body:
        if instance:
            raise bad("An occurrence or exception of a series cannot carry a recurrence.")
        recurrence = None
    if body.get("recurrence") is not None or (recurrence and times):
        candidate = body.get("recurrence") if "recurrence" in body else recurrence
        start = times["start"] if times else event.start
        zone_name = times["start_tz"] if times else event.start_tz
        if isinstance(candidate, dict) and isinstance(candidate.get("range"), dict):
            zone_name = candidate["range"].get("recurrenceTimeZone") or zone_name
        first_day = (
            start
            if isinstance(start, date) and not isinstance(start, datetime)
            else start.astimezone(resolve_zone(zone_name)).date()
        )
        recurrence = rec.validate(candidate, first_day)
        recurrence["range"].setdefault("recurrenceTimeZone", zone_name)
    transaction = body.get("transactionId")
    if transaction is not None:
        if not isinstance(transaction, str) or not transaction:
            raise bad("'transactionId' must be a non-empty string.")
        if not creating and transaction != event.transaction_id:
            raise bad(
                "'transactionId' cannot be changed after the event is created.",
                "ErrorInvalidPropertyForOperation",
            )
    if times:
        event.start, event.end = times["start"], times["end"]
        event.start_tz, event.end_tz = times["start_tz"], times["end_tz"]
        event.is_all_day = times["is_all_day"]
    event.props.update(props)
    event.extended.update(extended)
    if recurrence is not event.recurrence:
        event.recurrence = recurrence
        event.exceptions.clear()
        event.cancelled.clear()
    if creating:
        event.transaction_id = transaction
