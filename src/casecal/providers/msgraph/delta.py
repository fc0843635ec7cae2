"""Graph's per-calendar calendarView delta round, with what Graph leaves out of it: the series
masters of the occurrences it lists, the tags it cannot expand, and whether an event it reports
as removed is really gone (delta also reports an event that merely left the window)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Container
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import casecal.providers.msgraph.codec as codec
from casecal.domain.tags import Tag
from casecal.providers.base import ChangePage, LinkedIds, SyncWindow
from casecal.providers.errors import NotFound
from casecal.providers.msgraph import batch
from casecal.providers.msgraph.wire import PREFER, iso

if TYPE_CHECKING:
    from casecal.providers.msgraph.adapter import MicrosoftGraphProvider

TAG_LISTING_FROM = 40
"""More events to look up than this in a full round: list the calendar's events instead."""
TAG_PAGE = 1000
"""Graph's ``$top`` ceiling for event lists."""


async def rounds(
    graph: MicrosoftGraphProvider,
    calendar_id: str,
    cursor: str | None,
    window: SyncWindow | None,
    linked: LinkedIds,
) -> AsyncIterator[ChangePage]:
    """One calendarView delta round. The window goes on the first request only; after that
    the returned ``nextLink`` / ``deltaLink`` are called as they are.

    Delta lists occurrences, never their series master, and cannot expand the tag. So each
    page also carries the master of every series it shows (once per round), and the tags of
    events the caller does not already know (``known``: its linked ids, which include the
    echoes of its own writes, read through ``linked`` with the first page that lists
    anything) are read (``fetch_tags``). Both come from one listing of the
    calendar's events (pages of 1,000, tag expanded) when a full round needs many, else from
    one GET per event."""
    params: dict[str, Any] | None = None
    url = cursor
    if url is None:
        if window is None:
            raise ValueError("a full calendarView delta round needs a window")
        url = f"{graph.delta_api}/me/calendars/{quote(calendar_id, safe='')}/calendarView/delta"
        params = {"startDateTime": iso(window.start), "endDateTime": iso(window.end)}
    prefer = {"Prefer": f"{PREFER}, odata.maxpagesize={graph.page_size}"}
    lookup = _Lookup(graph, calendar_id, full=cursor is None)
    known: Container[str] | None = None
    settled: Container[str] = ()
    while True:
        page = await graph.http.json("GET", url, params=params, headers=prefer)
        params = None
        items = page.get("value", [])
        removed = [str(i["id"]) for i in items if "@removed" in i]
        live = [i for i in items if "@removed" not in i]
        if items and known is None:
            known, settled = await linked()
        removed, still_there = await _confirm_removed(graph, removed, known or (), settled)
        live += still_there
        masters = await lookup.masters(live)
        tags = await lookup.tags([*masters, *live], known or ()) if graph.fetch_tags else {}
        events = [codec.remote(i, tags.get(tag_owner(i))) for i in [*masters, *live]]
        next_link = page.get("@odata.nextLink")
        final = None if next_link else str(page["@odata.deltaLink"])
        # The page's JSON is not held while the caller applies it.
        del page, items, live, masters, still_there
        yield ChangePage(events, removed, final, full=cursor is None)
        if final is not None:
            return
        url = str(next_link)


async def _confirm_removed(
    graph: MicrosoftGraphProvider,
    removed: list[str],
    known: Container[str],
    settled: Container[str],
) -> tuple[list[str], list[dict[str, Any]]]:
    """The removals of linked events are read back, in ``$batch`` GETs: those still there are
    returned as live events, so what the adapter reports as removed is gone. Removals of
    unknown events, and of events the caller has already settled as gone (``settled``: the
    echo of its own deletes), are passed on unread."""
    linked = [r for r in removed if r in known and r not in settled]
    if not linked:
        return removed, []
    found = await read_many(graph, linked)
    back = [raw for raw in found.values() if raw is not None]
    gone = [r for r in removed if r not in found or found[r] is None]
    return gone, back


async def read_many(
    graph: MicrosoftGraphProvider, ids: list[str]
) -> dict[str, dict[str, Any] | None]:
    """Events by id (tag expanded) through the ``$batch`` loop; None for an event that is
    gone. A part the loop could not settle, or that failed otherwise, is read on its own
    (which raises what it means)."""
    query = urlencode({"$expand": codec.EXPAND_TAG})
    parts = [
        batch.Part("GET", f"/me/events/{quote(event_id, safe='')}?{query}", {"Prefer": PREFER})
        for event_id in ids
    ]
    answers = await batch.run(graph.http, f"{graph.api}/$batch", parts, idempotent=False)
    found: dict[str, dict[str, Any] | None] = {}
    for event_id, answer in zip(ids, answers, strict=True):
        if answer is not None and answer.error is None and isinstance(answer.body, dict):
            found[event_id] = answer.body
        elif answer is not None and answer.status in (404, 410):
            found[event_id] = None
        else:
            found[event_id] = await raw(graph, event_id)
    return found


async def raw(graph: MicrosoftGraphProvider, event_id: str) -> dict[str, Any] | None:
    """One event, tag expanded; None when it is gone."""
    try:
        return await graph.http.json(
            "GET", graph.event_url(event_id), params={"$expand": codec.EXPAND_TAG}
        )
    except NotFound:
        return None


async def items(
    graph: MicrosoftGraphProvider, url: str, params: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """The items of a paged Graph list: ``params`` on the first request, then each
    ``@odata.nextLink`` as it is."""
    next_url: str | None = url
    query: dict[str, Any] | None = params
    while next_url is not None:
        page = await graph.http.json("GET", next_url, params=query)
        query = None
        for item in page.get("value", []):
            yield item
        next_link = page.get("@odata.nextLink")
        next_url = str(next_link) if next_link else None


@dataclass(frozen=True, slots=True)
class _Listing:
    """What one listing of the calendar's events leaves for the round: every event's tag by
    id, and the JSON of the series masters only (what the round hands out), so a large
    calendar's events are not all held while the round goes."""

    tags: dict[str, Tag | None]
    masters: dict[str, dict[str, Any]]


async def _list_events(graph: MicrosoftGraphProvider, calendar_id: str) -> _Listing:
    """Every single event and series master of the calendar, tag expanded."""
    params = {"$expand": codec.EXPAND_TAG, "$top": TAG_PAGE}
    listing = _Listing({}, {})
    async for item in items(graph, graph.events_url(calendar_id), params):
        event_id = str(item["id"])
        listing.tags[event_id] = codec.tag_of(item)
        if item.get("type") == "seriesMaster":
            listing.masters[event_id] = item
    return listing


class _Lookup:
    """What one delta round needs beyond the delta: series masters and tags. A full round
    with many to look up lists the calendar's events once; otherwise each is read alone."""

    def __init__(self, graph: MicrosoftGraphProvider, calendar_id: str, *, full: bool) -> None:
        self.graph = graph
        self.calendar_id = calendar_id
        self.full = full
        self.listing: _Listing | None = None
        self.emitted: set[str] = set()

    async def _listed(self, wanted: int) -> _Listing:
        """The listing, made now when a full round needs more than a few reads."""
        if self.listing is None and self.full and wanted > TAG_LISTING_FROM:
            self.listing = await _list_events(self.graph, self.calendar_id)
        return self.listing or _Listing({}, {})

    async def _fetch(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        found = await asyncio.gather(*(raw(self.graph, i) for i in ids))
        return dict(zip(ids, found, strict=True))

    async def masters(self, live: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The masters of the series in ``live`` not yet handed out this round."""
        wanted = sorted({str(i["seriesMasterId"]) for i in live if i.get("seriesMasterId")})
        wanted = [w for w in wanted if w not in self.emitted]
        self.emitted.update(wanted)
        listed = (await self._listed(len(wanted))).masters
        fetched = await self._fetch([w for w in wanted if w not in listed])
        found = [listed[w] if w in listed else fetched[w] for w in wanted]
        return [item for item in found if item is not None]

    async def tags(
        self, items: list[dict[str, Any]], known: Container[str]
    ) -> dict[str, Tag | None]:
        """Tags of the items' owners (the event, or its master) that ``known`` does not hold;
        masters read this round already carry theirs."""
        tags: dict[str, Tag | None] = {}
        for item in items:
            if item.get("type") == "seriesMaster" or "singleValueExtendedProperties" in item:
                tags[str(item["id"])] = codec.tag_of(item)
        owners = sorted(o for o in {tag_owner(i) for i in items} if o not in known)
        owners = [o for o in owners if o not in tags]
        listed = (await self._listed(len(owners))).tags
        fetched = await self._fetch([o for o in owners if o not in listed])
        for owner in owners:
            if owner in listed:
                tags[owner] = listed[owner]
            else:
                found = fetched[owner]
                tags[owner] = codec.tag_of(found) if found is not None else None
        return tags


def tag_owner(item: dict[str, Any]) -> str:
    """The event that holds the tag: the series master for occurrences and exceptions."""
    return str(item.get("seriesMasterId") or item["id"])
