"""The CalDAV adapter (RFC 4791, RFC 6578) on the shared async HTTP client: discovery of the
principal and calendar home, ``sync-collection`` change rounds (a ctag + etag listing where
the server has none), ``calendar-multiget`` for bodies, conditional writes."""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx
import structlog

from casecal.domain.event import CanonicalEvent
from casecal.domain.occurrences import occurrences
from casecal.domain.recurrence import time_key
from casecal.domain.tags import Tag
from casecal.errors import ValidationFailed
from casecal.providers._batching import write_one
from casecal.providers._http import HttpLayer, RetryPolicy, Sleep
from casecal.providers.base import (
    AccountIdentity,
    CalendarInfo,
    Capabilities,
    ChangePage,
    LinkedIds,
    Provider,
    PushChannel,
    RemoteEvent,
    SyncWindow,
    WriteOp,
    WriteResult,
    no_linked_ids,
)
from casecal.providers.budget import WindowBudget
from casecal.providers.caldav import dav, ical
from casecal.providers.errors import (
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
)
from casecal.providers.tokens import TokenSource

log = structlog.get_logger(__name__)

CAPABILITIES = Capabilities(
    name="caldav",
    max_batch_size=50,
    max_concurrency=8,
    supports_push=False,
    removals_reliable=True,
)
"""CalDAV has no batch: a "batch" is its writes with up to ``max_concurrency`` in flight.
No push (RFC 6578 is polled). A 404 in a sync report is a deletion."""

SYNC = "sync:"
LISTING = "ctag:"
_CALENDAR_PROPS = (
    dav.RESOURCETYPE, dav.DISPLAYNAME, dav.COMPONENT_SET, dav.PRIVILEGE_SET, dav.GETCTAG,
)  # fmt: skip
_NO_SYNC_STATUSES = frozenset({400, 403, 405, 501})
_ICS = "text/calendar; charset=utf-8"
_XML = "application/xml; charset=utf-8"


class CalDavProvider:
    """One CalDAV account. ``server_url`` is where the account's principal is found (the
    server's root or context path, e.g. Nextcloud's ``/remote.php/dav``); when it does not
    answer, ``/.well-known/caldav`` (RFC 6764) is followed. Calendar ids are absolute URLs of
    calendar collections; event ids are the paths of their resources."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        client: httpx.AsyncClient,
        credentials: TokenSource,
        *,
        server_url: str,
        username: str = "",
        time_zone: str = "UTC",
        page_size: int = 100,
        use_sync_collection: bool = True,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        max_concurrency: int = CAPABILITIES.max_concurrency,
        semaphore: asyncio.Semaphore | None = None,
        budgets: Sequence[WindowBudget] = (),
    ) -> None:
        self.server_url = server_url if server_url.endswith("/") else server_url + "/"
        self.username = username
        self.time_zone = time_zone
        self.page_size = page_size
        self.use_sync_collection = use_sync_collection
        self._principal: dav.DavResponse | None = None
        self._principal_url: str | None = None
        self._uids: dict[str, str] = {}
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.http = HttpLayer(
            client,
            credentials,
            dav.classify,
            provider="caldav",
            policy=policy,
            max_concurrency=max_concurrency,
            semaphore=semaphore,
            budgets=budgets,
            auth_scheme="Basic",
            **extra,
        )

    # -- WebDAV requests -------------------------------------------------------------------
    async def _multistatus(
        self, method: str, url: str, body: bytes, *, depth: str
    ) -> dav.Multistatus:
        response = await self.http.request(
            method,
            url,
            content=body,
            headers={"Depth": depth, "Content-Type": _XML},
            idempotent=True,  # PROPFIND and REPORT only read
        )
        return dav.parse_multistatus(response.content)

    # -- account ---------------------------------------------------------------------------
    async def principal(self) -> dav.DavResponse:
        """The current user's principal with its home set and addresses (read once)."""
        if self._principal is None:
            url = await self._principal_href()
            found = await self._multistatus(
                "PROPFIND",
                url,
                dav.propfind(
                    [dav.DISPLAYNAME, dav.CALENDAR_HOME_SET, dav.CALENDAR_USER_ADDRESS_SET]
                ),
                depth="0",
            )
            if not found.responses:
                raise PermanentError("the principal answered nothing", provider="caldav")
            self._principal_url = url
            self._principal = found.responses[0]
        return self._principal

    async def _principal_href(self) -> str:
        """``DAV:current-user-principal`` at the server URL, else through the well-known
        URL's redirects (followed by hand so PROPFIND stays PROPFIND)."""
        body = dav.propfind([dav.CURRENT_USER_PRINCIPAL])
        tried = [self.server_url, urljoin(self.server_url, "/.well-known/caldav")]
        for url in tried:
            for _ in range(5):
                try:
                    found = await self._multistatus("PROPFIND", url, body, depth="0")
                except PermanentError as exc:
                    location = exc.reason.removeprefix("redirect:")
                    if exc.reason.startswith("redirect:") and location:
                        url = urljoin(url, location)
                        continue
                    if exc.status in (400, 403, 404, 405):
                        break
                    raise
                except NotFound:
                    break
                for item in found.responses:
                    hrefs = item.hrefs(dav.CURRENT_USER_PRINCIPAL)
                    if hrefs:
                        return self._absolute(url, hrefs[0])
                break
        raise NotFound(
            "no CalDAV principal found at the server URL or its /.well-known/caldav",
            provider="caldav",
        )

    async def identity(self) -> AccountIdentity:
        principal = await self.principal()
        addresses = principal.hrefs(dav.CALENDAR_USER_ADDRESS_SET)
        mail = next((a[7:] for a in addresses if a.lower().startswith("mailto:")), "")
        if not mail and "@" in self.username:
            mail = self.username
        return AccountIdentity(
            provider="caldav",
            subject=self._principal_url or principal.href,
            email=mail or self.username,
            name=principal.text(dav.DISPLAYNAME) or self.username,
        )

    async def calendar_home(self) -> str:
        principal = await self.principal()
        homes = principal.hrefs(dav.CALENDAR_HOME_SET)
        if not homes:
            raise PermanentError("the principal names no calendar home", provider="caldav")
        return self._absolute(self._principal_url or self.server_url, homes[0])

    async def list_calendars(self, *, writable_only: bool = True) -> list[CalendarInfo]:
        """The calendars of the home that take events (``supported-calendar-component-set``
        names VEVENT), writable ones only unless asked. The first is the primary one."""
        home = await self.calendar_home()
        found = await self._multistatus("PROPFIND", home, dav.propfind(_CALENDAR_PROPS), depth="1")
        out: list[CalendarInfo] = []
        for item in sorted(found.responses, key=lambda r: r.href):
            if not (dav.is_calendar(item) and dav.holds_events(item)):
                continue
            can_write = dav.writable(item)
            if writable_only and not can_write:
                continue
            url = self._absolute(home, item.href)
            name = item.text(dav.DISPLAYNAME) or item.href.rstrip("/").rsplit("/", 1)[-1]
            out.append(CalendarInfo(id=url, name=name, primary=not out, writable=can_write))
        return out

    # -- reading ---------------------------------------------------------------------------
    async def changes(
        self,
        calendar_id: str,
        cursor: str | None,
        window: SyncWindow | None = None,
        *,
        linked: LinkedIds = no_linked_ids,
    ) -> AsyncIterator[ChangePage]:
        """One round: a ``sync-collection`` REPORT from the cursor's token (empty for a full
        round), then ``calendar-multiget`` for the changed members, ``page_size`` a page. A
        round with nothing changed is that one REPORT. Servers without the report get a
        ctag PROPFIND (one request when nothing changed) and an etag listing diffed against
        the cursor's. Tags come in the resources and 404s are deletions: ``linked`` is never
        read. The window does not bound the round; consumers filter."""
        if cursor is not None and cursor.startswith(LISTING):
            async for page in self._listing_round(calendar_id, cursor):
                yield page
            return
        token = cursor[len(SYNC) :] if cursor is not None else None
        if cursor is not None and not cursor.startswith(SYNC):
            raise PermanentError("not a CalDAV cursor", provider="caldav")
        if not self.use_sync_collection:
            async for page in self._listing_round(calendar_id, None):
                yield page
            return
        try:
            report = await self._multistatus(
                "REPORT", calendar_id, dav.sync_collection(token), depth="0"
            )
        except PermanentError as exc:
            if token is not None or exc.status not in _NO_SYNC_STATUSES:
                raise
            log.info("caldav.no_sync_collection", status=exc.status)
            async for page in self._listing_round(calendar_id, None):
                yield page
            return
        if report.sync_token is None:
            raise PermanentError("sync-collection answered without a token", provider="caldav")
        path = dav.path_of(calendar_id)
        changed: list[str] = []
        removed: list[str] = []
        for item in report.responses:
            if dav.same_collection(item.href, path):
                continue  # some servers (iCloud) list the collection itself
            if item.status == 404:
                removed.append(item.href)
            else:
                changed.append(item.href)
        async for page in self._bodies(
            calendar_id, changed, removed, SYNC + report.sync_token, full=cursor is None
        ):
            yield page

    async def _bodies(
        self,
        calendar_id: str,
        changed: list[str],
        removed: list[str],
        cursor: str,
        *,
        full: bool,
    ) -> AsyncIterator[ChangePage]:
        """The changed members' bodies through ``calendar-multiget``, a page per request;
        the removals on the first page and the cursor on the last."""
        chunks = [changed[i : i + self.page_size] for i in range(0, len(changed), self.page_size)]
        if not chunks:
            yield ChangePage([], removed, cursor, full=full)
            return
        for n, hrefs in enumerate(chunks, start=1):
            report = await self._multistatus(
                "REPORT", calendar_id, dav.calendar_multiget(hrefs), depth="1"
            )
            events: list[RemoteEvent] = []
            gone = list(removed) if n == 1 else []
            for item in report.responses:
                if item.status == 404:
                    gone.append(item.href)  # deleted between the two reports
                    continue
                data = item.text(dav.CALENDAR_DATA)
                if data is None:
                    continue
                events.append(self._remote(item.href, item.text(dav.GETETAG), data))
            last = n == len(chunks)
            yield ChangePage(events, gone, cursor if last else None, full=full)

    async def _listing_round(
        self, calendar_id: str, cursor: str | None
    ) -> AsyncIterator[ChangePage]:
        """The fallback: the collection's ctag, and when it moved, every member's etag
        diffed against the etags the cursor remembers."""
        before_ctag, before = _read_listing(cursor) if cursor is not None else (None, {})
        head = await self._multistatus(
            "PROPFIND", calendar_id, dav.propfind([dav.GETCTAG]), depth="0"
        )
        ctag = head.responses[0].text(dav.GETCTAG) if head.responses else None
        if cursor is not None and ctag is not None and ctag == before_ctag:
            yield ChangePage([], [], cursor, full=False)
            return
        listing = await self._multistatus(
            "PROPFIND", calendar_id, dav.propfind([dav.GETETAG, dav.RESOURCETYPE]), depth="1"
        )
        path = dav.path_of(calendar_id)
        now: dict[str, str] = {}
        for item in listing.responses:
            if dav.same_collection(item.href, path) or item.text(dav.GETETAG) is None:
                continue
            now[item.href] = item.text(dav.GETETAG) or ""
        changed = sorted(h for h, etag in now.items() if before.get(h) != etag)
        removed = sorted(h for h in before if h not in now)
        async for page in self._bodies(
            calendar_id, changed, removed, _write_listing(ctag, now), full=cursor is None
        ):
            yield page

    async def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent:
        response = await self.http.request("GET", self._url(calendar_id, event_id))
        return self._remote(event_id, response.headers.get("ETag"), response.text)

    async def series_occurrences(
        self, calendar_id: str, series_id: str, window: SyncWindow
    ) -> list[datetime | date]:
        """The series' own expansion (its rules, RDATEs, less EXDATEs) over the window: the
        resource holds the whole series, so there is nothing more to ask the server."""
        remote = await self.get_event(calendar_id, series_id)
        event = remote.event
        if event is None or event.recurrence is None:
            return []
        rec = event.recurrence
        cancelled = {time_key(x) for x in rec.exdates}
        found: dict[str, datetime | date] = {}
        for rule in rec.rrules:
            for value in occurrences(rule, event.start, event.tz, window.start, window.end):
                found.setdefault(time_key(value), value)
        for value in rec.rdates:
            found.setdefault(time_key(value), value)
        return [found[k] for k in sorted(found) if k not in cancelled]

    async def find_event(self, calendar_id: str, tag: Tag) -> RemoteEvent | None:
        """Our events live at the name derived from the tag: one GET tells."""
        try:
            remote = await self.get_event(calendar_id, self._own_path(calendar_id, tag))
        except NotFound:
            return None
        return remote if remote.tag == tag else None

    def _remote(self, href: str, etag: str | None, data: str) -> RemoteEvent:
        """One resource as a ``RemoteEvent``; what the canonical event cannot hold comes
        back with ``problem`` set (skipped, never read as a deletion)."""
        try:
            parsed = ical.from_ical(data, default_tz=self.time_zone)
        except (ValidationFailed, ValueError) as exc:
            return RemoteEvent(
                id=href, etag=etag, event=None, tag=ical.tag_of(data), problem=str(exc)
            )
        self._uids[href] = parsed.uid
        return RemoteEvent(id=href, etag=etag, event=parsed.event, tag=parsed.tag)

    # -- writing ---------------------------------------------------------------------------
    async def create_event(
        self,
        calendar_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        """PUT with ``If-None-Match: *`` at the name derived from (connection, host entry). A
        412 means the resource exists: when it carries our tag it is the first attempt's
        event (a retry, or a crash before the link was saved), returned ``reused=True``."""
        path = self._own_path(calendar_id, tag)
        body = ical.to_ical(event, tag, ical.caldav_uid(tag))
        try:
            response = await self.http.request(
                "PUT",
                self._url(calendar_id, path),
                content=body,
                headers={"If-None-Match": "*", "Content-Type": _ICS},
            )
        except PreconditionFailed:
            existing = await self.get_event(calendar_id, path)
            if existing.tag != tag:
                raise PermanentError(
                    f"{path} is taken by another event", provider="caldav", status=412
                ) from None
            return WriteResult(id=path, etag=existing.etag, reused=True, remote=existing)
        return await self._written(calendar_id, path, response, event, tag)

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
        """The whole resource (series and overrides) replaced under ``If-Match``; the UID
        stays the resource's own."""
        uid = await self._uid(calendar_id, event_id, tag)
        headers = {"Content-Type": _ICS}
        if etag:
            headers["If-Match"] = etag
        response = await self.http.request(
            "PUT",
            self._url(calendar_id, event_id),
            content=ical.to_ical(event, tag, uid),
            headers=headers,
        )
        return await self._written(calendar_id, event_id, response, event, tag)

    async def _uid(self, calendar_id: str, event_id: str, tag: Tag) -> str:
        if event_id == self._own_path(calendar_id, tag):
            return ical.caldav_uid(tag)
        if event_id not in self._uids:
            await self.get_event(calendar_id, event_id)
        found = self._uids.get(event_id)
        if not found:
            raise PermanentError(f"{event_id} has no UID", provider="caldav")
        return found

    async def _written(
        self,
        calendar_id: str,
        event_id: str,
        response: httpx.Response,
        event: CanonicalEvent,
        tag: Tag,
    ) -> WriteResult:
        """The result of a PUT. With an ETag the server stored what was sent, which is
        ``event`` (the codec's round trip keeps it); a server that changed the data on store
        sends no ETag (RFC 4791 §5.3.4), and the resource is read back."""
        etag = response.headers.get("ETag")
        if etag:
            stored = event if event.tag == tag else event.with_tag(tag)
            remote = RemoteEvent(id=event_id, etag=etag, event=stored, tag=tag)
            return WriteResult(id=event_id, etag=etag, remote=remote)
        remote = await self.get_event(calendar_id, event_id)
        return WriteResult(id=event_id, etag=remote.etag, remote=remote)

    async def delete_event(self, calendar_id: str, event_id: str, *, etag: str | None) -> None:
        await self.http.request(
            "DELETE",
            self._url(calendar_id, event_id),
            headers={"If-Match": etag} if etag else {},
        )

    async def write_batch(
        self, calendar_id: str, ops: Sequence[WriteOp]
    ) -> list[WriteResult | ProviderError]:
        """No batch in CalDAV: each op on its own, as many in flight as the layer allows."""

        async def run(op: WriteOp) -> WriteResult | ProviderError:
            try:
                return await write_one(self, calendar_id, op)
            except ProviderError as exc:
                return exc

        return list(await asyncio.gather(*(run(op) for op in ops)))

    # -- push ------------------------------------------------------------------------------
    async def start_push(
        self, calendar_id: str, address: str, secret: str, expires_at: datetime
    ) -> PushChannel:
        raise PermanentError("CalDAV has no push notifications: it is polled", provider="caldav")

    async def renew_push(self, channel: PushChannel, expires_at: datetime) -> PushChannel:
        raise PermanentError("CalDAV has no push notifications: it is polled", provider="caldav")

    async def stop_push(self, channel: PushChannel) -> None:
        raise PermanentError("CalDAV has no push notifications: it is polled", provider="caldav")

    # -- urls ------------------------------------------------------------------------------
    @staticmethod
    def _absolute(base: str, href: str) -> str:
        """An href as an absolute URL with a percent-decoded path (the ids' form)."""
        parts = urlsplit(urljoin(base, href))
        return f"{parts.scheme}://{parts.netloc}{dav.path_of(href)}"

    @staticmethod
    def _url(calendar_id: str, path: str) -> str:
        parts = urlsplit(calendar_id)
        return f"{parts.scheme}://{parts.netloc}{dav.quote_href(path)}"

    @staticmethod
    def _own_path(calendar_id: str, tag: Tag) -> str:
        return dav.path_of(calendar_id).rstrip("/") + "/" + ical.resource_name(tag)


def _write_listing(ctag: str | None, etags: dict[str, str]) -> str:
    """A fallback cursor: the ctag and every member's etag, compressed."""
    packed = zlib.compress(json.dumps([ctag, etags], separators=(",", ":")).encode(), 9)
    return LISTING + base64.urlsafe_b64encode(packed).decode("ascii")


def _read_listing(cursor: str) -> tuple[str | None, dict[str, str]]:
    try:
        ctag, etags = json.loads(zlib.decompress(base64.urlsafe_b64decode(cursor[len(LISTING) :])))
    except (ValueError, zlib.error) as exc:
        raise PermanentError("not a CalDAV listing cursor", provider="caldav") from exc
    return (str(ctag) if ctag is not None else None), {str(k): str(v) for k, v in etags.items()}


if TYPE_CHECKING:

    def _conforms(adapter: CalDavProvider) -> Provider:
        """Makes mypy prove the adapter satisfies the protocol."""
        return adapter
