"""Graph event JSON <-> the adapter's values, over the domain codec: request bodies with our
tag and ``transactionId``, and ``RemoteEvent``s from expanded reads and delta items."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from casecal.domain.event import CanonicalEvent, Override
from casecal.domain.tags import Tag
from casecal.errors import ValidationFailed
from casecal.providers.base import CreateOp, RemoteEvent, UpdateOp, WriteOp, WriteResult
from casecal.providers.msgraph.batch import Part
from casecal.providers.msgraph.json import (
    TAG_EXPAND,
    event_zone,
    from_graph,
    graph_original_start,
    graph_tag,
    tag_filter,
    to_graph,
    to_graph_override,
)
from casecal.providers.msgraph.wire import PREFER, transaction_id, weak_etag
from casecal.providers.stamps import wire_stamp

EXPAND_TAG = TAG_EXPAND
filter_tag = tag_filter


def encode(event: CanonicalEvent, tag: Tag, *, invite: bool = False) -> dict[str, Any]:
    """The PATCH body of ``event``, carrying ``tag`` as our named extended property. Its
    attendees are invited (Graph mails them) only with ``invite``; else they are a body line."""
    return to_graph(event, tag, invite=invite)


def encode_override(override: Override, *, invite: bool = False) -> dict[str, Any]:
    """The PATCH body of one changed occurrence of a series."""
    return to_graph_override(override, invite=invite)


def encode_create(event: CanonicalEvent, tag: Tag, *, invite: bool = False) -> dict[str, Any]:
    """The POST body: as :func:`encode`, plus the ``transactionId`` that de-duplicates
    retried creates of the same host entry on the same connection."""
    return {**to_graph(event, tag, invite=invite), "transactionId": transaction_id(tag)}


def tag_of(item: dict[str, Any]) -> Tag | None:
    return graph_tag(item)


def remote(item: dict[str, Any], tag: Tag | None) -> RemoteEvent:
    """One Graph event. ``tag`` is what a separate expanded read found (delta pages cannot
    carry it). Occurrences and exceptions name their series and original slot; a cancelled
    occurrence has ``event=None``; an event the domain cannot represent has ``problem``."""
    series = item.get("seriesMasterId")
    original = None
    problem = None
    event: CanonicalEvent | None = None
    try:
        if series:
            tz = event_zone(item)
            original = graph_original_start(item, tz=tz, all_day=bool(item.get("isAllDay")))
        if not item.get("isCancelled"):
            event = from_graph(item)
            if tag is not None:
                event = event.with_tag(tag)
    except ValidationFailed as exc:
        problem = str(exc)
    return RemoteEvent(
        id=str(item["id"]),
        etag=weak_etag(item),
        event=event,
        tag=tag if tag is not None else graph_tag(item),
        series_id=str(series) if series else None,
        original_start=original,
        problem=problem,
        modified_at=wire_stamp(item.get("lastModifiedDateTime")),
        plain_occurrence=item.get("type") == "occurrence",
    )


def if_match(etag: str | None) -> dict[str, str]:
    return {"If-Match": etag} if etag else {}


def result(remote_event: RemoteEvent) -> WriteResult:
    return WriteResult(id=remote_event.id, etag=remote_event.etag, remote=remote_event)


def batch_part(calendar_id: str, op: WriteOp, *, invite: bool = False) -> Part:
    """The ``$batch`` part of one write; an update or a delete carries its change key."""
    headers = {"Prefer": PREFER}
    if isinstance(op, CreateOp):
        url = f"/me/calendars/{quote(calendar_id, safe='')}/events"
        return Part("POST", url, headers, encode_create(op.event, op.tag, invite=invite))
    url = f"/me/events/{quote(op.event_id, safe='')}"
    headers |= if_match(op.etag)
    if isinstance(op, UpdateOp):
        return Part("PATCH", url, headers, encode(op.event, op.tag, invite=invite))
    return Part("DELETE", url, headers)


def batch_result(op: WriteOp, body: Any) -> WriteResult:
    """The result of a part that succeeded."""
    if isinstance(op, CreateOp | UpdateOp):
        return result(remote(body, op.tag))
    return WriteResult(id=op.event_id, etag=None)
