"""Validation of an event body sent by a client (insert, update, patch): known fields only,
id rules, times, recurrence, reminders, and extended properties with Google's silent limits."""

from __future__ import annotations

import copy
import re
from typing import Any

from . import eventtime, recurrence
from .errors import ApiError, invalid

EVENT_FIELDS = {
    "anyoneCanAddSelf", "attachments", "attendees", "attendeesOmitted", "birthdayProperties",
    "colorId", "conferenceData", "created", "creator", "description", "end",
    "endTimeUnspecified", "etag", "eventLabelId", "eventType", "extendedProperties",
    "focusTimeProperties", "gadget", "guestsCanInviteOthers", "guestsCanModify",
    "guestsCanSeeOtherGuests", "hangoutLink", "htmlLink", "iCalUID", "id", "kind", "location",
    "locked", "organizer", "originalStartTime", "outOfOfficeProperties", "privateCopy",
    "recurrence", "recurringEventId", "reminders", "sequence", "source", "start", "status",
    "summary", "transparency", "updated", "visibility", "workingLocationProperties",
}  # fmt: skip
READ_ONLY = {"kind", "etag", "created", "updated", "htmlLink", "hangoutLink", "creator"}
ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
STATUSES = {"confirmed", "tentative", "cancelled"}
KEY_MAX = 44
VALUE_MAX = 1024
MAX_PROPERTIES = 300
MAX_PROPERTY_BYTES = 32 * 1024
REMINDER_MAX_MINUTES = 40320
MAX_OVERRIDES = 5


def check_id(event_id: Any) -> str:
    if not isinstance(event_id, str) or not ID_RE.match(event_id):
        raise invalid("Invalid resource id value.")
    return event_id


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics: objects merge recursively, ``null`` removes, arrays are replaced."""
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def clean(body: Any, *, insert: bool) -> dict[str, Any]:
    """The client-owned part of an event after validation; raises ``ApiError`` (400)."""
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received.", reason="parseError")
    unknown = set(body) - EVENT_FIELDS
    if unknown:
        raise invalid(f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}.")
    out = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY and v is not None}
    if insert and "id" in out and "iCalUID" in out:
        raise invalid("Send either id or iCalUID, not both (iCalUID is for events.import).")
    if "id" in out:
        check_id(out["id"])
    out["start"] = eventtime.normalize(out.get("start"), "start")
    out["end"] = eventtime.normalize(out.get("end"), "end")
    eventtime.check_range(out["start"], out["end"])
    if "originalStartTime" in out:
        out["originalStartTime"] = eventtime.normalize(out["originalStartTime"], "start")
    if out.get("recurrence"):
        for key in ("start", "end"):
            if "timeZone" not in out[key]:
                raise ApiError(400, "required", f"Missing time zone definition for {key} time.")
        out["recurrence"] = recurrence.validate(out["recurrence"], out["start"])
    else:
        out.pop("recurrence", None)
    status = out.setdefault("status", "confirmed")
    if status not in STATUSES:
        raise invalid(f"Invalid value for status: {status}")
    for key, allowed in (
        ("transparency", {"opaque", "transparent"}),
        ("visibility", {"default", "public", "private", "confidential"}),
    ):
        if key in out and out[key] not in allowed:
            raise invalid(f"Invalid value for {key}: {out[key]}")
    out["reminders"] = _reminders(out.get("reminders"))
    if "extendedProperties" in out:
        out["extendedProperties"] = _extended(out["extendedProperties"])
    return out


def _reminders(value: Any) -> dict[str, Any]:
    if value is None:
        return {"useDefault": True}
    if not isinstance(value, dict) or set(value) - {"useDefault", "overrides"}:
        raise invalid("Invalid reminders.")
    overrides = value.get("overrides") or []
    use_default = bool(value.get("useDefault", False))
    if use_default and overrides:
        raise invalid(
            "Cannot specify both default reminders and overrides at the same time.",
            reason="cannotUseDefaultRemindersAndSpecifyOverride",
        )
    if len(overrides) > MAX_OVERRIDES:
        raise invalid("Too many reminders.", reason="tooManyReminders")
    for item in overrides:
        minutes = item.get("minutes") if isinstance(item, dict) else None
        if not isinstance(minutes, int) or not 0 <= minutes <= REMINDER_MAX_MINUTES:
            raise invalid("Invalid reminder minutes.", reason="invalidReminderMinutes")
        if item.get("method") not in {"email", "popup"}:
            raise invalid("Invalid reminder method.", reason="invalidReminderMethod")
    out: dict[str, Any] = {"useDefault": use_default}
    if overrides:
        out["overrides"] = overrides
    return out


def _extended(value: Any) -> dict[str, dict[str, str]]:
    """Keys over 44 characters are silently dropped, values over 1024 silently truncated."""
    if not isinstance(value, dict) or set(value) - {"private", "shared"}:
        raise invalid("Invalid extendedProperties.")
    out: dict[str, dict[str, str]] = {}
    count = size = 0
    for scope in ("private", "shared"):
        props = value.get(scope)
        if props is None:
            continue
        if not isinstance(props, dict):
            raise invalid(f"Invalid extendedProperties.{scope}.")
        kept: dict[str, str] = {}
        for key, raw in props.items():
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise invalid(f"Invalid extendedProperties.{scope} value for {key}.")
            if len(key) > KEY_MAX:
                continue
            kept[key] = raw[:VALUE_MAX]
            count += 1
            size += len(key.encode()) + len(kept[key].encode())
        out[scope] = kept
    if count > MAX_PROPERTIES or size > MAX_PROPERTY_BYTES:
        raise invalid("The extended properties exceed the allowed size or count.")
    return out
