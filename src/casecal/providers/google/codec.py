"""Google event JSON <-> the adapter's values, over the domain codec: request bodies with our
tag, and ``RemoteEvent``s (live events, exception instances and cancelled occurrences)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from casecal.domain.event import CanonicalEvent, Override
from casecal.domain.recurrence import EventTime
from casecal.domain.tags import Tag, google_event_id
from casecal.errors import ValidationFailed
from casecal.providers.base import CreateOp, DeleteOp, RemoteEvent, UpdateOp, WriteOp, WriteResult
from casecal.providers.google.json import (
    from_google,
    google_instance_id,
    google_original_start,
    google_tag,
    to_google,
    to_google_override,
)
from casecal.providers.google.wire import Part
from casecal.providers.stamps import wire_stamp


def encode(event: CanonicalEvent, tag: Tag, *, event_id: str | None = None) -> dict[str, Any]:
    """The insert / update body of ``event``, carrying ``tag`` in a private property."""
    return to_google(event, tag, event_id=event_id)


def encode_override(override: Override, series_id: str, series_tz: str, tag: Tag) -> dict[str, Any]:
    """The PUT body of one changed occurrence of series ``series_id``."""
    return to_google_override(override, master_id=series_id, series_tz=series_tz, tag=tag)


def instance_id(series_id: str, original_start: EventTime) -> str:
    """The id of the instance of ``series_id`` the rule puts at ``original_start``."""
    return google_instance_id(series_id, original_start)


def remote(item: dict[str, Any], default_tz: str) -> RemoteEvent:
    """One ``events`` item. Exception instances and cancelled occurrences name their series
    (``series_id``) and slot (``original_start``); an item the domain cannot represent comes
    back with ``problem`` set rather than failing the whole page."""
    series = item.get("recurringEventId")
    original = None
    problem = None
    event: CanonicalEvent | None = None
    try:
        original = google_original_start(item, default_tz) if series else None
        if item.get("status") != "cancelled":
            event = from_google(item, default_tz=default_tz)
    except ValidationFailed as exc:
        problem = str(exc)
    return RemoteEvent(
        id=str(item["id"]),
        etag=item.get("etag"),
        event=event,
        tag=google_tag(item),
        series_id=str(series) if series else None,
        original_start=original,
        problem=problem,
        modified_at=wire_stamp(item.get("updated")),
    )


def event_id(tag: Tag) -> str:
    """The client-chosen id of the event standing for ``tag``'s (connection, host entry)."""
    return google_event_id(tag.connection_id, tag.entry_id)


def create_id(op: CreateOp) -> str:
    return event_id(op.tag)


def if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}


def result(remote_event: RemoteEvent, *, reused: bool = False) -> WriteResult:
    return WriteResult(
        id=remote_event.id, etag=remote_event.etag, reused=reused, remote=remote_event
    )


def batch_part(events_path: str, op: WriteOp) -> Part:
    """The inner request of ``op``; ``events_path`` is the path-only events collection URL."""
    if isinstance(op, CreateOp):
        body = encode(op.event, op.tag, event_id=create_id(op))
        return Part("POST", f"{events_path}?sendUpdates=none", {}, body)
    target = f"{events_path}/{quote(op.event_id, safe='@')}?sendUpdates=none"
    if isinstance(op, UpdateOp):
        return Part("PUT", target, if_match(op.etag), encode(op.event, op.tag))
    return Part("DELETE", target, if_match(op.etag))


def batch_result(op: WriteOp, body: Any, default_tz: str) -> WriteResult:
    """The result of a part that succeeded."""
    if isinstance(op, DeleteOp):
        return WriteResult(id=op.event_id, etag=None)
    return result(remote(body, default_tz))
