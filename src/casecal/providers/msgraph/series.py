"""A series' exceptions on Graph. Graph's recurrence has no EXDATE, and writing a series drops
its exceptions: after every write of a series its cancelled occurrences are deleted and its
changed ones patched, each found through ``/instances`` and written with ``If-Match`` on the
change key that listing just returned (so an occurrence someone else changed in between is a
412, as every other conditional write is)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import casecal.providers.msgraph.codec as codec
from casecal.domain.event import CanonicalEvent
from casecal.domain.recurrence import time_key
from casecal.domain.tags import Tag
from casecal.providers.base import SyncWindow, WriteResult
from casecal.providers.errors import NotFound
from casecal.providers.msgraph.delta import TAG_PAGE, items
from casecal.providers.msgraph.wire import iso, weak_etag

if TYPE_CHECKING:
    from casecal.providers.msgraph.adapter import MicrosoftGraphProvider


@dataclass(frozen=True)
class Occurrence:
    """One live occurrence of a series, as ``/instances`` lists it."""

    id: str
    original: datetime | date
    etag: str | None


async def instances(
    graph: MicrosoftGraphProvider, series_id: str, window: SyncWindow
) -> list[Occurrence]:
    """The live occurrences of a series in a window."""
    found: list[Occurrence] = []
    params = {"startDateTime": iso(window.start), "endDateTime": iso(window.end), "$top": TAG_PAGE}
    async for item in items(graph, f"{graph.event_url(series_id)}/instances", params):
        original = codec.remote(item, None).original_start
        if original is not None:
            found.append(Occurrence(str(item["id"]), original, weak_etag(item)))
    return found


async def write_exceptions(
    graph: MicrosoftGraphProvider, event: CanonicalEvent, tag: Tag, written: WriteResult
) -> WriteResult:
    """Delete the series' cancelled occurrences (``recurrence.exdates``) and patch its changed
    ones (``overrides``), found through ``/instances`` around them; then read the series again
    for its new change key. A 412 on an occurrence is raised like any other."""
    rec = event.recurrence
    if rec is None or not (rec.exdates or event.overrides):
        return written
    cancelled = {time_key(x) for x in rec.exdates}
    changed = {time_key(o.original_start): o for o in event.overrides}
    instants = [_instant(x) for x in (*rec.exdates, *(o.original_start for o in event.overrides))]
    window = SyncWindow(
        start=min(instants) - timedelta(days=1), end=max(instants) + timedelta(days=1)
    )
    touched = False
    for occurrence in await instances(graph, written.id, window):
        key = time_key(occurrence.original)
        headers = codec.if_match(occurrence.etag)
        url = graph.event_url(occurrence.id)
        if key in cancelled:
            with suppress(NotFound):  # already cancelled
                await graph.http.request("DELETE", url, headers=headers)
            touched = True
        elif key in changed:
            body = codec.encode_override(changed[key], invite=graph.invites(tag))
            await graph.http.request("PATCH", url, json=body, headers=headers)
            touched = True
    if not touched:
        return written
    fresh = await graph.read(written.id)
    return WriteResult(id=fresh.id, etag=fresh.etag, reused=written.reused, remote=fresh)


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)
