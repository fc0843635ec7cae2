"""The Google Calendar v3 adapter: identity, calendars, syncToken change rounds, idempotent
writes with client-chosen ids, If-Match preconditions, batch writes and watch channels."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
import structlog

import casecal.providers.google.codec as codec
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
from casecal.providers.errors import (
    Gone,
    NotFound,
    PermanentError,
    ProviderError,
    Transient,
)
from casecal.providers.google.wire import classify, classify_parts, decode_batch, encode_batch
from casecal.providers.tokens import TokenSource

log = structlog.get_logger(__name__)

CAPABILITIES = Capabilities(
    name="google",
    max_batch_size=50,
    max_concurrency=8,
    removals_reliable=True,
    exceptions_outlive_rule=True,
)
WRITE_ROLES = frozenset({"writer", "owner"})
NO_UPDATES = {"sendUpdates": "none"}


class GoogleCalendarProvider:
    """One Google account. ``api_base_url`` is ``Settings.google_api_base_url`` (the Calendar
    API lives under ``/calendar/v3`` and the batch endpoint under ``/batch/calendar/v3``)."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenSource,
        *,
        api_base_url: str = "https://www.googleapis.com",
        userinfo_url: str | None = None,
        page_size: int = 2500,
        single_events: bool = False,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        max_concurrency: int = CAPABILITIES.max_concurrency,
        semaphore: asyncio.Semaphore | None = None,
        budgets: Sequence[WindowBudget] = (),
    ) -> None:
        base = api_base_url.rstrip("/")
        self._api = f"{base}/calendar/v3"
        self._batch_url = f"{base}/batch/calendar/v3"
        self._path_prefix = urlsplit(base).path.rstrip("/") + "/calendar/v3"
        self._userinfo = userinfo_url or f"{base}/oauth2/v3/userinfo"
        self._page_size = page_size
        self._single_events = "true" if single_events else "false"
        self._zones: dict[str, str] = {}
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.http = HttpLayer(
            client,
            tokens,
            classify,
            provider="google",
            policy=policy,
            max_concurrency=max_concurrency,
            semaphore=semaphore,
            budgets=budgets,
            **extra,
        )

    # -- account ---------------------------------------------------------------------------
    async def identity(self) -> AccountIdentity:
        info = await self.http.json("GET", self._userinfo)
        return AccountIdentity(
            provider="google",
            subject=str(info["sub"]),
            email=str(info.get("email", "")),
            name=str(info.get("name", "")),
        )

    async def list_calendars(self, *, writable_only: bool = True) -> list[CalendarInfo]:
        params: dict[str, Any] = {"maxResults": 250}
        if writable_only:
            params["minAccessRole"] = "writer"
        found: list[CalendarInfo] = []
        while True:
            page = await self.http.json("GET", f"{self._api}/users/me/calendarList", params=params)
            for item in page.get("items", []):
                if item.get("deleted"):
                    continue
                info = CalendarInfo(
                    id=str(item["id"]),
                    name=str(item.get("summaryOverride") or item.get("summary", "")),
                    primary=bool(item.get("primary", False)),
                    writable=item.get("accessRole") in WRITE_ROLES,
                    time_zone=item.get("timeZone"),
                )
                if info.writable or not writable_only:
                    found.append(info)
            token = page.get("nextPageToken")
            if not token:
                return found
            params["pageToken"] = token

    # -- reading ---------------------------------------------------------------------------
    async def changes(
        self,
        calendar_id: str,
        cursor: str | None,
        window: SyncWindow | None = None,
        *,
        linked: LinkedIds = no_linked_ids,
    ) -> AsyncIterator[ChangePage]:
        """One round of ``events.list``. The same parameters go on full and incremental
        rounds (only the window / syncToken differ); 410 ``fullSyncRequired`` raises
        ``CursorExpired``. Pages are yielded as they arrive. Tags come inline (private
        extended properties) and cancelled items are deletions, so ``linked`` is never read."""
        params: dict[str, Any] = {
            "maxResults": self._page_size,
            "singleEvents": self._single_events,
        }
        if cursor is not None:
            params["syncToken"] = cursor
        elif window is not None:
            params["timeMin"] = _rfc3339(window.start)
            params["timeMax"] = _rfc3339(window.end)
        url = self._events(calendar_id)
        while True:
            page = await self.http.json("GET", url, params=params)
            zone = self._zones.setdefault(calendar_id, str(page.get("timeZone") or "UTC"))
            events, removed = _page_items(page.get("items", []), zone)
            token = page.get("nextPageToken")
            final = None if token else str(page["nextSyncToken"])
            del page  # its JSON is not held while the caller applies the page
            yield ChangePage(events, removed, final, full=cursor is None)
            if not token:
                return
            params["pageToken"] = token

    async def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent:
        """The event; ``Gone`` when it was deleted (Google still returns the tombstone)."""
        item = await self.http.json("GET", self._event(calendar_id, event_id))
        if item.get("status") == "cancelled" and not item.get("recurringEventId"):
            raise Gone(f"event {event_id} was deleted", provider="google", status=200)
        return codec.remote(item, await self._zone(calendar_id))

    async def series_occurrences(
        self, calendar_id: str, series_id: str, window: SyncWindow
    ) -> list[datetime | date]:
        """``events.instances`` over the window, cancelled instances left out."""
        found: list[datetime | date] = []
        zone = await self._zone(calendar_id)
        params: dict[str, Any] = {
            "timeMin": _rfc3339(window.start), "timeMax": _rfc3339(window.end),
            "maxResults": self._page_size,
        }  # fmt: skip
        while True:
            page = await self.http.json(
                "GET", f"{self._event(calendar_id, series_id)}/instances", params=params
            )
            for item in page.get("items", []):
                remote = codec.remote(item, zone)
                if not remote.cancelled and remote.original_start is not None:
                    found.append(remote.original_start)
            token = page.get("nextPageToken")
            if not token:
                return found
            params["pageToken"] = token

    async def find_event(self, calendar_id: str, tag: Tag) -> RemoteEvent | None:
        """Our events have the id derived from the tag: one GET tells."""
        try:
            remote = await self.get_event(calendar_id, codec.event_id(tag))
        except NotFound:
            return None
        return remote if remote.tag == tag else None

    async def _zone(self, calendar_id: str) -> str:
        """The calendar's time zone (all-day events carry none), fetched once."""
        if calendar_id not in self._zones:
            info = await self.http.json("GET", f"{self._api}/calendars/{_seg(calendar_id)}")
            self._zones[calendar_id] = str(info.get("timeZone") or "UTC")
        return self._zones[calendar_id]

    # -- writing ---------------------------------------------------------------------------
    async def create_event(
        self,
        calendar_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        """Insert with the id derived from (connection, host entry). A retry, or a second
        call, meets 409 ``duplicate`` and returns the existing event (``reused=True``)."""
        event_id = codec.event_id(tag)
        body = codec.encode(event, tag, event_id=event_id)
        try:
            item = await self.http.json(
                "POST", self._events(calendar_id), params=NO_UPDATES, json=body, idempotent=True
            )
        except PermanentError as exc:
            if exc.status != 409:
                raise
            return await self._existing(calendar_id, event_id, event, tag)
        written = codec.result(codec.remote(item, await self._zone(calendar_id)))
        return await self._write_overrides(calendar_id, event, tag, written, changed)

    async def _existing(
        self, calendar_id: str, event_id: str, event: CanonicalEvent, tag: Tag
    ) -> WriteResult:
        """The event an earlier create made. Google never frees a deleted id, so when the
        entry's event was deleted it is restored in place (status back to confirmed)."""
        url = self._event(calendar_id, event_id)
        item = await self.http.json("GET", url)
        zone = await self._zone(calendar_id)
        found = codec.remote(item, zone)
        if found.tag is not None and found.tag != tag:
            raise PermanentError(
                f"event id {event_id} is taken by another entry", provider="google", status=409
            )
        if item.get("status") == "cancelled":
            body = {**codec.encode(event, tag), "status": "confirmed"}
            headers = codec.if_match(item.get("etag"))
            item = await self.http.json("PUT", url, params=NO_UPDATES, json=body, headers=headers)
            found = codec.remote(item, zone)
        return codec.result(found, reused=True)

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
        """Full update (PUT keeps the tag because we send it) guarded by ``If-Match``."""
        item = await self.http.json(
            "PUT",
            self._event(calendar_id, event_id),
            params=NO_UPDATES,
            json=codec.encode(event, tag),
            headers=codec.if_match(etag),
        )
        written = codec.result(codec.remote(item, await self._zone(calendar_id)))
        return await self._write_overrides(calendar_id, event, tag, written, changed)

    async def _write_overrides(
        self,
        calendar_id: str,
        event: CanonicalEvent,
        tag: Tag,
        written: WriteResult,
        changed: frozenset[str],
    ) -> WriteResult:
        """A series' changed occurrences are instances of their own on Google: after the
        series, each one is written to its instance id (``<series>_<original start>``). A
        changed instance also outlives an EXDATE of its slot, so a cancelled occurrence the
        remote holds ``changed`` is cancelled on its own too (gone already: nothing to do)."""
        rec = event.recurrence
        cancelled = [x for x in rec.exdates if time_key(x) in changed] if rec else []
        for slot in cancelled:
            instance = codec.instance_id(written.id, slot)
            with suppress(NotFound):  # Gone (410) is a NotFound too
                await self.http.request(
                    "DELETE", self._event(calendar_id, instance), params=NO_UPDATES
                )
        for override in event.overrides:
            instance = codec.instance_id(written.id, override.original_start)
            try:
                await self.http.json(
                    "PUT",
                    self._event(calendar_id, instance),
                    params=NO_UPDATES,
                    json=codec.encode_override(override, written.id, event.tz, tag),
                )
            except NotFound:
                # The series has no such occurrence (any more): nothing to change there.
                log.warning("override of a missing occurrence skipped", instance=instance)
        return written

    async def delete_event(self, calendar_id: str, event_id: str, *, etag: str | None) -> None:
        await self.http.request(
            "DELETE",
            self._event(calendar_id, event_id),
            params=NO_UPDATES,
            headers=codec.if_match(etag),
        )

    async def write_batch(
        self, calendar_id: str, ops: Sequence[WriteOp]
    ) -> list[WriteResult | ProviderError]:
        """Batches of at most 50 through ``/batch/calendar/v3``. Parts that failed in a way
        worth retrying (throttled, 5xx, clashing) are re-run one by one."""
        return await in_chunks(calendar_id, ops, self.capabilities.max_batch_size, self._chunk)

    async def _chunk(self, calendar_id: str, ops: Sequence[WriteOp]) -> list[Outcome]:
        prefix = f"{self._path_prefix}/calendars/{_seg(calendar_id)}/events"
        boundary, content = encode_batch([codec.batch_part(prefix, op) for op in ops])
        response = await self.http.request(
            "POST",
            self._batch_url,
            content=content,
            headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
            idempotent=all(not isinstance(op, UpdateOp) for op in ops),
            cost=len(ops),  # each part of a batch counts against the quota
        )
        answers = decode_batch(response.headers.get("content-type", ""), response.content, len(ops))
        zone = await self._zone(calendar_id)
        out: list[Outcome] = []
        for op, answer in zip(ops, answers, strict=True):
            try:
                if answer is None:
                    out.append(await write_one(self, calendar_id, op))
                elif answer.status < 300:
                    written = codec.batch_result(op, answer.body, zone)
                    if isinstance(op, CreateOp | UpdateOp):
                        written = await self._write_overrides(
                            calendar_id, op.event, op.tag, written, op.changed
                        )
                    out.append(written)
                else:
                    error = classify_parts(answer.status, answer.body)
                    if (
                        isinstance(op, CreateOp)
                        and answer.status == 409
                        and not isinstance(error, Transient)
                    ):
                        out.append(
                            await self._existing(calendar_id, codec.create_id(op), op.event, op.tag)
                        )
                    elif isinstance(error, Transient):
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
            "id": uuid.uuid4().hex,
            "type": "web_hook",
            "address": address,
            "token": secret,
            "expiration": str(int(expires_at.timestamp() * 1000)),
        }
        answer = await self.http.json(
            "POST", f"{self._events(calendar_id)}/watch", json=body, idempotent=True
        )
        expiration = answer.get("expiration")
        return PushChannel(
            id=str(answer.get("id", body["id"])),
            calendar_id=calendar_id,
            address=address,
            expires_at=(
                datetime.fromtimestamp(int(expiration) / 1000, UTC) if expiration else expires_at
            ),
            secret=secret,
            resource_id=answer.get("resourceId"),
        )

    async def renew_push(self, channel: PushChannel, expires_at: datetime) -> PushChannel:
        """Google cannot extend a channel: open a new one (new id), then stop the old one.
        Both may deliver for a moment; receivers ignore unknown channel ids."""
        fresh = await self.start_push(
            channel.calendar_id, channel.address, channel.secret, expires_at
        )
        await self.stop_push(channel)
        return fresh

    async def stop_push(self, channel: PushChannel) -> None:
        await self.http.request(
            "POST",
            f"{self._api}/channels/stop",
            json={"id": channel.id, "resourceId": channel.resource_id},
            idempotent=True,
        )

    # -- urls ------------------------------------------------------------------------------
    def _events(self, calendar_id: str) -> str:
        return f"{self._api}/calendars/{_seg(calendar_id)}/events"

    def _event(self, calendar_id: str, event_id: str) -> str:
        return f"{self._events(calendar_id)}/{_seg(event_id)}"


def _seg(value: str) -> str:
    """A path segment; ``@`` stays literal (RFC 3986 allows it), as Google's clients send it."""
    return quote(value, safe="@")


def _page_items(items: list[dict[str, Any]], zone: str) -> tuple[list[RemoteEvent], list[str]]:
    """A listing page's events, and the ids of the events it reports deleted."""
    events: list[RemoteEvent] = []
    removed: list[str] = []
    for item in items:
        if item.get("status") == "cancelled" and not item.get("recurringEventId"):
            removed.append(str(item["id"]))
        else:
            events.append(codec.remote(item, zone))
    return events, removed


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


if TYPE_CHECKING:

    def _conforms(adapter: GoogleCalendarProvider) -> Provider:
        """Makes mypy prove the adapter satisfies the protocol."""
        return adapter
