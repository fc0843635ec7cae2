"""The Microsoft Graph adapter: identity, calendars, per-calendar calendarView delta rounds,
idempotent creates (``transactionId`` + tag), If-Match writes, JSON ``$batch`` and
subscriptions. Every request asks for immutable ids and UTC times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Container, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx

import casecal.providers.msgraph.codec as codec
from casecal.domain.entries import EntryKind
from casecal.domain.event import CanonicalEvent
from casecal.domain.recurrence import time_key
from casecal.domain.tags import Tag
from casecal.providers._batching import Outcome, in_chunks, write_one
from casecal.providers._http import HttpLayer, RetryPolicy, Sleep
from casecal.providers.base import (
    AccountIdentity,
    CalendarInfo,
    Capabilities,
    ChangePage,
    CreateOp,
    DeleteOp,
    Provider,
    PushChannel,
    RemoteEvent,
    SyncWindow,
    UpdateOp,
    WriteOp,
    WriteResult,
)
from casecal.providers.budget import WindowBudget
from casecal.providers.errors import NotFound, PermanentError, ProviderError, Transient
from casecal.providers.msgraph.wire import PREFER, classify, classify_parts
from casecal.providers.tokens import TokenSource

CAPABILITIES = Capabilities(
    name="microsoft",
    max_batch_size=20,
    max_concurrency=4,
    removals_reliable=True,  # the adapter reads back what delta reports removed
    occurrences_listed=True,
)
CHANGE_TYPES = "created,updated,deleted"


class MicrosoftGraphProvider:
    """One Microsoft 365 mailbox. ``graph_base_url`` is ``Settings.microsoft_graph_base_url``;
    v1.0 serves everything except the per-calendar delta, which Graph documents on beta."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenSource,
        *,
        graph_base_url: str = "https://graph.microsoft.com",
        delta_version: str = "beta",
        tenant_id: str | None = None,
        page_size: int = 1000,
        fetch_tags: bool = True,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        max_concurrency: int = CAPABILITIES.max_concurrency,
        semaphore: asyncio.Semaphore | None = None,
        budgets: Sequence[WindowBudget] = (),
        invite_kinds: Container[EntryKind] = frozenset(),
    ) -> None:
        base = graph_base_url.rstrip("/")
        self._invite_kinds = invite_kinds
        self._api = f"{base}/v1.0"
        self._delta_api = f"{base}/{delta_version}"
        self._tenant_id = tenant_id
        self._page_size = page_size
        self._fetch_tags = fetch_tags
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.http = HttpLayer(
            client,
            tokens,
            classify,
            provider="microsoft",
            policy=policy,
            max_concurrency=max_concurrency,
            semaphore=semaphore,
            budgets=budgets,
            headers={"Prefer": PREFER},
            **extra,
        )

    # -- account ---------------------------------------------------------------------------
    async def identity(self) -> AccountIdentity:
        me = await self.http.json(
            "GET", f"{self._api}/me", params={"$select": "id,userPrincipalName,mail,displayName"}
        )
        return AccountIdentity(
            provider="microsoft",
            subject=str(me["id"]),
            email=str(me.get("mail") or me.get("userPrincipalName") or ""),
            name=str(me.get("displayName") or ""),
            tenant_id=self._tenant_id,
        )

    async def list_calendars(self, *, writable_only: bool = True) -> list[CalendarInfo]:
        found: list[CalendarInfo] = []
        url: str | None = f"{self._api}/me/calendars"
        while url:
            page = await self.http.json("GET", url)
            for item in page.get("value", []):
                info = CalendarInfo(
                    id=str(item["id"]),
                    name=str(item.get("name", "")),
                    primary=bool(item.get("isDefaultCalendar", False)),
                    writable=bool(item.get("canEdit", False)),
                )
                if info.writable or not writable_only:
                    found.append(info)
            url = page.get("@odata.nextLink")
        return found

    # -- reading ---------------------------------------------------------------------------
    async def changes(
        self,
        calendar_id: str,
        cursor: str | None,
        window: SyncWindow | None = None,
        *,
        known: Container[str] = frozenset(),
        settled: Container[str] = frozenset(),
    ) -> AsyncIterator[ChangePage]:
        """One calendarView delta round. The window goes on the first request only; after
        that the returned ``nextLink`` / ``deltaLink`` are called as they are.

        Delta lists occurrences, never their series master, and cannot expand the tag. So
        each page also carries the master of every series it shows (once per round), and
        the tags of events the caller does not already know (``known``: its linked ids,
        which include the echoes of its own writes) are read (``fetch_tags``). Both come
        from one listing of the calendar's events (pages of 1,000, tag expanded) when a full
        round needs many, else from one GET per event."""
        params: dict[str, Any] | None = None
        url = cursor
        if url is None:
            if window is None:
                raise ValueError("a full calendarView delta round needs a window")
            url = f"{self._delta_api}/me/calendars/{_q(calendar_id)}/calendarView/delta"
            params = {"startDateTime": _iso(window.start), "endDateTime": _iso(window.end)}
        prefer = {"Prefer": f"{PREFER}, odata.maxpagesize={self._page_size}"}
        lookup = _Lookup(self, calendar_id, full=cursor is None)
        while True:
            page = await self.http.json("GET", url, params=params, headers=prefer)
            params = None
            items = page.get("value", [])
            removed = [str(i["id"]) for i in items if "@removed" in i]
            live = [i for i in items if "@removed" not in i]
            removed, still_there = await self._confirm_removed(removed, known, settled)
            live += still_there
            masters = await lookup.masters(live)
            tags = await lookup.tags([*masters, *live], known) if self._fetch_tags else {}
            events = [codec.remote(i, tags.get(_tag_owner(i))) for i in [*masters, *live]]
            next_link = page.get("@odata.nextLink")
            if next_link:
                url = str(next_link)
                yield ChangePage(events, removed, None, full=cursor is None)
                continue
            final = str(page["@odata.deltaLink"])
            yield ChangePage(events, removed, final, full=cursor is None)
            return

    async def _confirm_removed(
        self, removed: list[str], known: Container[str], settled: Container[str]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Delta also reports an event that merely left the window (moved out of it) as
        removed. The removals of linked events are read back, in ``$batch`` GETs of 20:
        those still there are returned as live events, so what this adapter reports as
        removed is gone. Removals of unknown events, and of events the caller has already
        settled as gone (``settled``: the echo of its own deletes), are passed on unread."""
        linked = [r for r in removed if r in known and r not in settled]
        if not linked:
            return removed, []
        found = await self._batch_read(linked)
        back = [raw for raw in found.values() if raw is not None]
        gone = [r for r in removed if r not in found or found[r] is None]
        return gone, back

    async def _batch_read(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Events by id (tag expanded) through ``$batch``; None for an event that is gone.
        Reads are not chained with ``dependsOn`` (one 404 would fail every later part with
        424); a part the mailbox refused for now (429, 5xx) goes into the next batch, and
        after three rounds is read on its own."""
        query = urlencode({"$expand": codec.EXPAND_TAG})
        found: dict[str, dict[str, Any] | None] = {}
        pending = list(ids)
        for _ in range(3):
            retry: list[str] = []
            for start in range(0, len(pending), CAPABILITIES.max_batch_size):
                chunk = pending[start : start + CAPABILITIES.max_batch_size]
                requests = [
                    {"id": str(n), "method": "GET", "url": f"/me/events/{_q(event_id)}?{query}",
                     "headers": {"Prefer": PREFER}}
                    for n, event_id in enumerate(chunk)
                ]  # fmt: skip
                body = await self.http.json(
                    "POST", f"{self._api}/$batch", json={"requests": requests}, cost=len(chunk)
                )
                answers = {str(a.get("id")): a for a in body.get("responses", [])}
                for n, event_id in enumerate(chunk):
                    answer = answers.get(str(n), {})
                    status = int(answer.get("status", 0))
                    if 200 <= status < 300 and isinstance(answer.get("body"), dict):
                        found[event_id] = answer["body"]
                    elif status in (404, 410):
                        found[event_id] = None
                    else:
                        retry.append(event_id)
            if not retry:
                return found
            pending = retry
        for event_id in pending:
            found[event_id] = await self._raw(event_id)
        return found

    async def _list_events(self, calendar_id: str) -> dict[str, dict[str, Any]]:
        """Every single event and series master of the calendar, tag expanded, by id."""
        params = {"$expand": codec.EXPAND_TAG, "$top": TAG_PAGE}
        listing = self._items(self._events(calendar_id), params)
        return {str(item["id"]): item async for item in listing}

    async def _raw(self, event_id: str) -> dict[str, Any] | None:
        try:
            return await self.http.json(
                "GET", self._event(event_id), params={"$expand": codec.EXPAND_TAG}
            )
        except NotFound:
            return None

    async def _read(self, event_id: str) -> RemoteEvent:
        item = await self.http.json(
            "GET", self._event(event_id), params={"$expand": codec.EXPAND_TAG}
        )
        return codec.remote(item, codec.tag_of(item))

    async def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent:
        return await self._read(event_id)

    async def series_occurrences(
        self, calendar_id: str, series_id: str, window: SyncWindow
    ) -> list[datetime | date]:
        """``/events/{id}/instances`` over the window (the only place Graph shows which
        occurrences still exist)."""
        return [original for _, original in await self._instances(series_id, window)]

    async def find_event(self, calendar_id: str, tag: Tag) -> RemoteEvent | None:
        """Graph can filter on a named extended property's value."""
        page = await self.http.json(
            "GET",
            self._events(calendar_id),
            params={"$filter": codec.filter_tag(tag), "$expand": codec.EXPAND_TAG, "$top": 2},
        )
        for item in page.get("value", []):
            remote = codec.remote(item, codec.tag_of(item))
            if remote.tag == tag:
                return remote
        return None

    # -- writing ---------------------------------------------------------------------------
    async def create_event(
        self,
        calendar_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        """POST with a ``transactionId`` derived from (connection, host entry): Graph answers
        a retried create with the event the first attempt made. (``changed`` needs nothing
        here: ``_exceptions`` finds every occurrence it touches through ``/instances``.)"""
        item = await self.http.json(
            "POST",
            self._events(calendar_id),
            json=codec.encode_create(event, tag, invite=self._invites(tag)),
            idempotent=True,
        )
        return await self._exceptions(event, tag, codec.result(codec.remote(item, tag)))

    async def update_event(
        self,
        calendar_id: str,
        event_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        etag: str | None,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        item = await self.http.json(
            "PATCH",
            self._event(event_id),
            json=codec.encode(event, tag, invite=self._invites(tag)),
            headers=codec.if_match(etag),
        )
        return await self._exceptions(event, tag, codec.result(codec.remote(item, tag)))

    def _invites(self, tag: Tag) -> bool:
        """Whether the firm lets Graph invite the attendees of this kind of entry (by default
        it does not: they go into the body, and nobody is mailed)."""
        return tag.kind in self._invite_kinds

    async def _exceptions(
        self, event: CanonicalEvent, tag: Tag, written: WriteResult
    ) -> WriteResult:
        """Graph's recurrence has no EXDATE and writing it drops a series' exceptions: after
        every write of a series, its cancelled occurrences (``recurrence.exdates``) are
        deleted and its changed ones (``overrides``) patched, found through ``/instances``
        around them. The series is then read again for its new change key."""
        rec = event.recurrence
        if rec is None or not (rec.exdates or event.overrides):
            return written
        cancelled = {time_key(x) for x in rec.exdates}
        changed = {time_key(o.original_start): o for o in event.overrides}
        instants = [
            _instant(x) for x in (*rec.exdates, *(o.original_start for o in event.overrides))
        ]
        window = SyncWindow(
            start=min(instants) - timedelta(days=1), end=max(instants) + timedelta(days=1)
        )
        touched = False
        for occurrence_id, original in await self._instances(written.id, window):
            key = time_key(original)
            if key in cancelled:
                with suppress(NotFound):  # already cancelled
                    await self.http.request("DELETE", self._event(occurrence_id))
                touched = True
            elif key in changed:
                body = codec.encode_override(changed[key], invite=self._invites(tag))
                await self.http.request("PATCH", self._event(occurrence_id), json=body)
                touched = True
        if not touched:
            return written
        fresh = await self._read(written.id)
        return WriteResult(id=fresh.id, etag=fresh.etag, reused=written.reused, remote=fresh)

    async def _instances(
        self, series_id: str, window: SyncWindow
    ) -> list[tuple[str, datetime | date]]:
        """(occurrence id, original start) of the live occurrences of a series in a window."""
        found: list[tuple[str, datetime | date]] = []
        params = {
            "startDateTime": _iso(window.start), "endDateTime": _iso(window.end),
            "$top": TAG_PAGE,
        }  # fmt: skip
        async for item in self._items(f"{self._event(series_id)}/instances", params):
            original = codec.remote(item, None).original_start
            if original is not None:
                found.append((str(item["id"]), original))
        return found

    async def _items(self, url: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The items of a paged Graph list: ``params`` on the first request, then each
        ``@odata.nextLink`` as it is."""
        next_url: str | None = url
        query: dict[str, Any] | None = params
        while next_url is not None:
            page = await self.http.json("GET", next_url, params=query)
            query = None
            for item in page.get("value", []):
                yield item
            next_link = page.get("@odata.nextLink")
            next_url = str(next_link) if next_link else None

    async def delete_event(self, calendar_id: str, event_id: str, *, etag: str | None) -> None:
        await self.http.request("DELETE", self._event(event_id), headers=codec.if_match(etag))

    async def write_batch(
        self, calendar_id: str, ops: Sequence[WriteOp]
    ) -> list[WriteResult | ProviderError]:
        """JSON ``$batch`` of at most 20, chained with ``dependsOn`` so one mailbox never sees
        more than one of them at a time. Parts that failed transiently, or were skipped (424)
        after an earlier failure, are re-run one by one."""
        return await in_chunks(calendar_id, ops, self.capabilities.max_batch_size, self._chunk)

    async def _chunk(self, calendar_id: str, ops: Sequence[WriteOp]) -> list[Outcome]:
        requests = [
            codec.batch_request(
                calendar_id, i, op, invite=not isinstance(op, DeleteOp) and self._invites(op.tag)
            )
            for i, op in enumerate(ops)
        ]
        body = await self.http.json(
            "POST",
            f"{self._api}/$batch",
            json={"requests": requests},
            idempotent=all(isinstance(op, CreateOp) for op in ops),
            cost=len(ops),  # Graph counts each part against the mailbox's budget
        )
        answers = {str(r.get("id")): r for r in body.get("responses", [])}
        out: list[Outcome] = []
        for index, op in enumerate(ops):
            answer = answers.get(str(index))
            try:
                if answer is not None and int(answer.get("status", 0)) < 300:
                    written = codec.batch_result(op, answer.get("body"))
                    if isinstance(op, CreateOp | UpdateOp):
                        written = await self._exceptions(op.event, op.tag, written)
                    out.append(written)
                    continue
                error = (
                    None
                    if answer is None
                    else classify_parts(int(answer["status"]), answer.get("body"))
                )
                if error is None or isinstance(error, Transient) or _skipped(error):
                    out.append(await write_one(self, calendar_id, op))
                else:
                    out.append(error)
            except ProviderError as exc:
                out.append(exc)
        return out

    # -- push ------------------------------------------------------------------------------
    async def start_push(
        self, calendar_id: str, address: str, secret: str, expires_at: datetime
    ) -> PushChannel:
        body = {
            "changeType": CHANGE_TYPES,
            "notificationUrl": address,
            "lifecycleNotificationUrl": address,
            "resource": f"me/calendars/{calendar_id}/events",
            "expirationDateTime": _iso(expires_at),
            "clientState": secret,
        }
        answer = await self.http.json("POST", f"{self._api}/subscriptions", json=body)
        return _channel(answer, calendar_id, address, secret, expires_at)

    async def renew_push(self, channel: PushChannel, expires_at: datetime) -> PushChannel:
        answer = await self.http.json(
            "PATCH",
            f"{self._api}/subscriptions/{_q(channel.id)}",
            json={"expirationDateTime": _iso(expires_at)},
        )
        return _channel(answer, channel.calendar_id, channel.address, channel.secret, expires_at)

    async def stop_push(self, channel: PushChannel) -> None:
        await self.http.request("DELETE", f"{self._api}/subscriptions/{_q(channel.id)}")

    # -- urls ------------------------------------------------------------------------------
    def _events(self, calendar_id: str) -> str:
        return f"{self._api}/me/calendars/{_q(calendar_id)}/events"

    def _event(self, event_id: str) -> str:
        return f"{self._api}/me/events/{_q(event_id)}"


TAG_LISTING_FROM = 40
"""More events to look up than this in a full round: list the calendar's events instead."""


class _Lookup:
    """What one delta round needs beyond the delta: series masters and tags. A full round
    with many to look up lists the calendar's events once; otherwise each is read alone."""

    def __init__(self, graph: MicrosoftGraphProvider, calendar_id: str, *, full: bool) -> None:
        self.graph = graph
        self.calendar_id = calendar_id
        self.full = full
        self.listing: dict[str, dict[str, Any]] | None = None
        self.emitted: set[str] = set()

    async def _read(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        if self.listing is None and self.full and len(ids) > TAG_LISTING_FROM:
            self.listing = await self.graph._list_events(self.calendar_id)
        listed = self.listing or {}
        missing = [i for i in ids if i not in listed]
        found = await asyncio.gather(*(self.graph._raw(i) for i in missing))
        fetched = dict(zip(missing, found, strict=True))
        return {i: listed[i] if i in listed else fetched[i] for i in ids}

    async def masters(self, live: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The masters of the series in ``live`` not yet handed out this round."""
        wanted = sorted({str(i["seriesMasterId"]) for i in live if i.get("seriesMasterId")})
        wanted = [w for w in wanted if w not in self.emitted]
        self.emitted.update(wanted)
        found = await self._read(wanted)
        return [raw for raw in found.values() if raw is not None]

    async def tags(
        self, items: list[dict[str, Any]], known: Container[str]
    ) -> dict[str, Tag | None]:
        """Tags of the items' owners (the event, or its master) that ``known`` does not hold;
        masters read this round already carry theirs."""
        tags: dict[str, Tag | None] = {}
        for item in items:
            if item.get("type") == "seriesMaster" or "singleValueExtendedProperties" in item:
                tags[str(item["id"])] = codec.tag_of(item)
        owners = sorted(o for o in _owners(items) if o not in known and o not in tags)
        for owner, raw in (await self._read(owners)).items():
            tags[owner] = codec.tag_of(raw) if raw is not None else None
        return tags


TAG_PAGE = 1000
"""Graph's ``$top`` ceiling for event lists."""


def _owners(items: list[dict[str, Any]]) -> set[str]:
    return {_tag_owner(i) for i in items}


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _tag_owner(item: dict[str, Any]) -> str:
    """The event that holds the tag: the series master for occurrences and exceptions."""
    return str(item.get("seriesMasterId") or item["id"])


def _channel(
    answer: dict[str, Any], calendar_id: str, address: str, secret: str, fallback: datetime
) -> PushChannel:
    raw = answer.get("expirationDateTime")
    expires = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else fallback
    return PushChannel(
        id=str(answer["id"]),
        calendar_id=calendar_id,
        address=address,
        expires_at=expires,
        secret=secret,
    )


def _q(value: str) -> str:
    return quote(value, safe="")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _skipped(error: ProviderError) -> bool:
    """A batch part the server did not run because the one it depended on failed (424)."""
    return isinstance(error, PermanentError) and error.status == 424


__all__ = ["CAPABILITIES", "MicrosoftGraphProvider"]


if TYPE_CHECKING:

    def _conforms(adapter: MicrosoftGraphProvider) -> Provider:
        """Makes mypy prove the adapter satisfies the protocol."""
        return adapter
