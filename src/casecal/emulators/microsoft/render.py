"""Stored events and instances as Graph event JSON, as one caller sees them: output time zone,
id type, body content type, ``$select`` and the ``$expand`` of named extended properties."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from casecal.emulators.microsoft.instances import Instance, stamp
from casecal.emulators.microsoft.state import MicrosoftState, StoredEvent
from casecal.emulators.microsoft.tz import format_date, format_local, utc_iso

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


@dataclass
class View:
    """How the calling request wants events rendered."""

    base: str
    version: str
    zone: str = "UTC"
    immutable: bool = False
    body_type: str = "html"
    select: list[str] | None = None
    expand_ids: list[str] = field(default_factory=list)
    """Normalised extended-property ids asked for with $expand."""


def html_to_text(content: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
    text = re.sub(r"(?is)<head>.*?</head>", "", text)
    text = html.unescape(_TAG.sub("", text))
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines()).strip()


def text_to_html(content: str) -> str:
    escaped = html.escape(content).replace("\n", "<br>\r\n")
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8">\r\n</head>\r\n<body>\r\n<div>' + escaped + "</div>\r\n</body>\r\n</html>"
    )


def _body(event: StoredEvent, wanted: str) -> dict[str, str]:
    body = event.props.get("body") or {"contentType": "text", "content": ""}
    content, kind = body["content"], body["contentType"]
    if kind == wanted or not content:
        return {"contentType": wanted, "content": content}
    if wanted == "text":
        return {"contentType": "text", "content": html_to_text(content)}
    return {"contentType": "html", "content": text_to_html(content)}


def event_id(view: View, event: StoredEvent) -> str:
    return event.immutable_id if view.immutable else event.rest_id


def instance_id(view: View, inst: Instance) -> str:
    if inst.master is None or inst.key is None:
        return event_id(view, inst.event)
    return f"{event_id(view, inst.master)}_{stamp(inst.key)}"


def _when(value: datetime | date, zone: str) -> dict[str, str]:
    if isinstance(value, datetime):
        return format_local(value, zone)
    return format_date(value, zone)


def render(state: MicrosoftState, view: View, inst: Instance) -> dict[str, Any]:
    """One instance (single event, series master, occurrence or exception) as JSON."""
    event, master = inst.event, inst.master
    source = master or event
    owner = state.users[source.owner_oid]
    data = {**source.props, **(event.props if master is not None else {})}
    body = _body(event if event.props.get("body") else source, view.body_type)
    preview = html_to_text(body["content"]) if body["contentType"] == "html" else body["content"]
    out: dict[str, Any] = {
        "@odata.etag": f'W/"{event.change_key}"',
        "id": instance_id(view, inst),
        "createdDateTime": utc_iso(source.created),
        "lastModifiedDateTime": utc_iso(event.modified),
        "changeKey": event.change_key,
        "categories": data.get("categories", []),
        "originalStartTimeZone": source.start_tz,
        "originalEndTimeZone": source.end_tz,
        "iCalUId": source.ical_uid + (stamp(inst.key) if inst.key is not None else ""),
        "reminderMinutesBeforeStart": data.get("reminderMinutesBeforeStart", 15),
        "isReminderOn": data.get("isReminderOn", True),
        "hasAttachments": False,
        "subject": data.get("subject") or "",
        "bodyPreview": preview[:255],
        "importance": data.get("importance", "normal"),
        "sensitivity": data.get("sensitivity", "normal"),
        "isAllDay": event.is_all_day,
        "isCancelled": False,
        "isOrganizer": True,
        "responseRequested": data.get("responseRequested", True),
        "seriesMasterId": event_id(view, master) if master is not None else None,
        "showAs": data.get("showAs", "busy"),
        "type": inst.kind,
        "webLink": f"{view.base}view/{owner.oid}/{source.calendar_id}#{event_id(view, source)}",
        "isOnlineMeeting": data.get("isOnlineMeeting", False),
        "onlineMeetingProvider": data.get("onlineMeetingProvider", "unknown"),
        "allowNewTimeProposals": data.get("allowNewTimeProposals", True),
        "isDraft": False,
        "hideAttendees": data.get("hideAttendees", False),
        "recurrence": source.recurrence if master is None else None,
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        "body": body,
        "start": _when(inst.start, view.zone),
        "end": _when(inst.end, view.zone),
        "location": data.get("location")
        or {
            "displayName": "",
            "locationType": "default",
            "uniqueIdType": "unknown",
            "address": {},
            "coordinates": {},
        },
        "locations": data.get("locations", []),
        "attendees": data.get("attendees", []),
        "organizer": {"emailAddress": {"name": owner.name, "address": owner.mail}},
    }
    if inst.key is not None:
        key = inst.key
        out["originalStart"] = (
            utc_iso(key) if isinstance(key, datetime) else (f"{key.isoformat()}T00:00:00Z")
        )
    if source.transaction_id is not None and master is None:
        out["transactionId"] = source.transaction_id
    if view.select is not None:
        keep = {"id", "@odata.etag", *view.select}
        out = {k: v for k, v in out.items() if k in keep}
    if view.expand_ids:
        out["singleValueExtendedProperties"] = [
            {"id": source.extended[key][0], "value": source.extended[key][1]}
            for key in view.expand_ids
            if key in source.extended
        ]
    return out


def render_removed(view: View, any_id: str) -> dict[str, Any]:
    return {"id": any_id, "@removed": {"reason": "deleted"}}
