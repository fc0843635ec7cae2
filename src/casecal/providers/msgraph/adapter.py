"""The Microsoft Graph adapter: identity, calendars, per-calendar calendarView delta rounds
(``delta``), idempotent creates (``transactionId`` + tag), If-Match writes (a series'
exceptions in ``series``), JSON ``$batch`` (``batch``) and subscriptions. Every request asks
for immutable ids and UTC times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Container, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

import casecal.providers.msgraph.codec as codec
from casecal.domain.entries import EntryKind
from casecal.domain.event import CanonicalEvent
from casecal.domain.tags import Tag
from casecal.providers._batching import write_one
from casecal.providers._http import HttpLayer, RetryPolicy, Sleep
from casecal.providers.base import (
    AccountIdentity,
    CalendarInfo,
    Capabilities,
    ChangePage,
    CreateOp,
    DeleteOp,
    LinkedIds,
    Provider,
    PushChannel,
    RemoteEvent,
    SyncWindow,
    UpdateOp,
    WriteOp,
    WriteResult,
    no_linked_ids,
)
from casecal.providers.budget import WindowBudget
from casecal.providers.errors import ProviderError
from casecal.providers.msgraph import batch, delta, series
from casecal.providers.msgraph.wire import PREFER, classify, iso
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
        self.api = f"{base}/v1.0"
        self.delta_api = f"{base}/{delta_version}"
        self._tenant_id = tenant_id
        self.page_size = page_size
        self.fetch_tags = fetch_tags
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
            "GET", f"{self.api}/me", params={"$select": "id,userPrincipalName,mail,displayName"}
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
        url: str | None = f"{self.api}/me/calendars"
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
    def changes(
        self,
        calendar_id: str,
        cursor: str | None,
        window: SyncWindow | None = None,
        *,
        linked: LinkedIds = no_linked_ids,
    ) -> AsyncIterator[ChangePage]:
        """One calendarView delta round (``delta.rounds``)."""
        return delta.rounds(self, calendar_id, cursor, window, linked)

    async def read(self, event_id: str) -> RemoteEvent:
        """One event by id, tag expanded."""
        item = await self.http.json(
            "GET", self.event_url(event_id), params={"$expand": codec.EXPAND_TAG}
        )
        return codec.remote(item, codec.tag_of(item))

    async def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent:
        return await self.read(event_id)

    async def series_occurrences(
        self, calendar_id: str, series_id: str, window: SyncWindow
    ) -> list[datetime | date]:
        """``/events/{id}/instances`` over the window (the only place Graph shows which
        occurrences still exist)."""
        return [o.original for o in await series.instances(self, series_id, window)]

    async def find_event(self, calendar_id: str, tag: Tag) -> RemoteEvent | None:
        """Graph can filter on a named extended property's value."""
        page = await self.http.json(
            "GET",
            self.events_url(calendar_id),
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
        here: ``series`` finds every occurrence it touches through ``/instances``.)"""
        item = await self.http.json(
            "POST",
            self.events_url(calendar_id),
            json=codec.encode_create(event, tag, invite=self.invites(tag)),
            idempotent=True,
        )
        return await series.write_exceptions(
            self, event, tag, codec.result(codec.remote(item, tag))
        )

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
            self.event_url(event_id),
            json=codec.encode(event, tag, invite=self.invites(tag)),
            headers=codec.if_match(etag),
        )
        return await series.write_exceptions(
            self, event, tag, codec.result(codec.remote(item, tag))
        )

    def invites(self, tag: Tag) -> bool:
        """Whether the firm lets Graph invite the attendees of this kind of entry (by default
        it does not: they go into the body, and nobody is mailed)."""
        return tag.kind in self._invite_kinds

    async def delete_event(self, calendar_id: str, event_id: str, *, etag: str | None) -> None:
        await self.http.request("DELETE", self.event_url(event_id), headers=codec.if_match(etag))

    async def write_batch(
        self, calendar_id: str, ops: Sequence[WriteOp]
    ) -> list[WriteResult | ProviderError]:
        """Independent parts through the ``$batch`` loop (``batch``): a part that failed for
        good is answered with its error and does not hold up the others; what the loop could
        not settle is written on its own."""
        parts = [
            codec.batch_part(
                calendar_id, op, invite=not isinstance(op, DeleteOp) and self.invites(op.tag)
            )
            for op in ops
        ]
        answers = await batch.run(
            self.http,
            f"{self.api}/$batch",
            parts,
            idempotent=all(isinstance(op, CreateOp) for op in ops),
        )
        out: list[WriteResult | ProviderError] = []
        for op, answer in zip(ops, answers, strict=True):
            try:
                if answer is None:
                    out.append(await write_one(self, calendar_id, op))
                elif answer.error is not None:
                    out.append(answer.error)
                else:
                    written = codec.batch_result(op, answer.body)
                    if isinstance(op, CreateOp | UpdateOp):
                        written = await series.write_exceptions(self, op.event, op.tag, written)
                    out.append(written)
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
            "expirationDateTime": iso(expires_at),
            "clientState": secret,
        }
        answer = await self.http.json("POST", f"{self.api}/subscriptions", json=body)
        return _channel(answer, calendar_id, address, secret, expires_at)

    async def renew_push(self, channel: PushChannel, expires_at: datetime) -> PushChannel:
        answer = await self.http.json(
            "PATCH",
            f"{self.api}/subscriptions/{_q(channel.id)}",
            json={"expirationDateTime": iso(expires_at)},
        )
        return _channel(answer, channel.calendar_id, channel.address, channel.secret, expires_at)

    async def stop_push(self, channel: PushChannel) -> None:
        await self.http.request("DELETE", f"{self.api}/subscriptions/{_q(channel.id)}")

    # -- urls ------------------------------------------------------------------------------
    def events_url(self, calendar_id: str) -> str:
        return f"{self.api}/me/calendars/{_q(calendar_id)}/events"

    def event_url(self, event_id: str) -> str:
        return f"{self.api}/me/events/{_q(event_id)}"


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


__all__ = ["CAPABILITIES", "MicrosoftGraphProvider"]


if TYPE_CHECKING:

    def _conforms(adapter: MicrosoftGraphProvider) -> Provider:
        """Makes mypy prove the adapter satisfies the protocol."""
        return adapter
