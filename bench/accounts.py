"""One case manager's emulated account per sample, set up over the ``/_emulator`` HTTP surface:
the CaseCal adapter for it, seeding and edits "by another client", and listing sizes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import httpx

from bench.emulator import Admin
from bench.workload import CANCELLED, MOVED, RemoteSpec, google_body, graph_body
from casecal.providers.base import Provider
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.tokens import RefreshingTokenSource

CLIENT_ID, CLIENT_SECRET = "casecal-bench", "casecal-bench-secret"
REDIRECT = "http://127.0.0.1/oauth/callback"
GOOGLE_SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.events"]
GRAPH_SCOPES = ["openid", "email", "offline_access", "User.Read", "Calendars.ReadWrite"]
GOOGLE_MAX_PAGE, GRAPH_MAX_PAGE = 2500, 1000
SEED_CONCURRENCY = 24
BULK_EVENTS = 2500
"""Events per bulk seeding request (a few MB of JSON)."""
T = TypeVar("T")


@dataclass
class Counter:
    """Requests the adapter's HTTP client sent (the wire view, batch envelopes counted once)."""

    sent: int = 0

    async def hook(self, _request: httpx.Request) -> None:
        self.sent += 1


@dataclass
class RemoteAccount:
    provider_name: str
    admin: Admin
    email: str
    calendar_id: str = ""
    oid: str = ""
    tenant: str = ""
    issued: dict[str, Any] = field(default_factory=dict)
    seeded: list[dict[str, Any]] = field(default_factory=list)
    """The events ``create_many`` made: ``id`` (as CaseCal's adapter sees it) and ``etag``."""
    tokens: RefreshingTokenSource | None = None
    """The token source of the last adapter made (its ``refresh_count``)."""

    @classmethod
    async def create(cls, provider_name: str, admin: Admin) -> RemoteAccount:
        tag = uuid.uuid4().hex[:10]
        if provider_name == "google":
            email = f"cm-{tag}@bench.example"
            account = cls(provider_name, admin, email, calendar_id=email)
            client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
            await admin.call("POST", "/clients", client | {"redirect_uris": [REDIRECT]})
            await admin.call("POST", "/accounts", {"email": email, "name": "Case Manager"})
            account.issued = await admin.call(
                "POST", "/tokens", {"email": email, "client_id": CLIENT_ID, "scopes": GOOGLE_SCOPES}
            )
            return account
        domain = f"b{tag}.example"
        email = f"cm@{domain}"
        account = cls(provider_name, admin, email)
        account.tenant = (await admin.call("POST", "/tenants", {"domain": domain}))["tenant_id"]
        account.oid = (
            await admin.call(
                "POST", "/users", {"tenant_id": account.tenant, "upn": email, "name": "CM"}
            )
        )["oid"]
        await admin.call("POST", "/apps", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                         "redirect_uris": [REDIRECT]})  # fmt: skip
        account.issued = await admin.call(
            "POST", "/tokens", {"upn": email, "client_id": CLIENT_ID, "scopes": GRAPH_SCOPES}
        )
        return account

    @classmethod
    async def create_many(
        cls, provider_name: str, admin: Admin, events: Sequence[Sequence[dict[str, Any]]]
    ) -> list[RemoteAccount]:
        """One account per item of ``events`` (each with those event bodies, written as the
        account's own client), in bulk requests of ``BULK_EVENTS`` events or so: the
        emulators' ``/_emulator/bulk``, instead of three or four admin calls per account
        and one per event."""
        accounts: list[RemoteAccount] = []
        chunk: list[dict[str, Any]] = []
        size = 0
        for bodies in events:
            tag = uuid.uuid4().hex[:10]
            if provider_name == "google":
                spec = {"email": f"cm-{tag}@bench.example", "name": "Case Manager",
                        "scopes": GOOGLE_SCOPES}  # fmt: skip
            else:
                spec = {"domain": f"b{tag}.example", "upn": f"cm@b{tag}.example", "name": "CM",
                        "scopes": GRAPH_SCOPES}  # fmt: skip
            chunk.append(spec | {"client_id": CLIENT_ID, "events": list(bodies)})
            size += max(1, len(bodies))
            if size >= BULK_EVENTS:
                accounts += await cls._bulk(provider_name, admin, chunk)
                chunk, size = [], 0
        if chunk:
            accounts += await cls._bulk(provider_name, admin, chunk)
        return accounts

    @classmethod
    async def _bulk(
        cls, provider_name: str, admin: Admin, specs: list[dict[str, Any]]
    ) -> list[RemoteAccount]:
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "redirect_uris": [REDIRECT]}  # fmt: skip
        key = "client" if provider_name == "google" else "app"
        made = (await admin.call("POST", "/bulk", {key: client, "accounts": specs}))["accounts"]
        if provider_name == "google":
            return [
                cls(
                    provider_name,
                    admin,
                    m["email"],
                    calendar_id=m["calendar_id"],
                    issued=m["tokens"],
                    seeded=m["events"],
                )
                for m in made
            ]
        return [
            cls(
                provider_name,
                admin,
                m["upn"],
                calendar_id=m["calendar_id"],
                oid=m["oid"],
                tenant=m["tenant_id"],
                issued=m["tokens"],
                seeded=[{"id": e["immutable_id"], "etag": e["etag"]} for e in m["events"]],
            )
            for m in made
        ]

    # -- the CaseCal side's adapter --------------------------------------------------------

    async def adapter(
        self,
        http: httpx.AsyncClient,
        *,
        page_size: int | None = None,
        fetch_tags: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> Provider:
        """The adapter CaseCal uses for this account (its token source on ``clock``); the
        first Graph one also learns the default calendar's id (call it before clearing the
        log) unless the account was made in bulk."""
        root = self.admin.root
        if self.provider_name == "google":
            tokens = self._tokens(http, f"{root}/token", clock)
            return GoogleCalendarProvider(
                http, tokens, api_base_url=root, page_size=page_size or GOOGLE_MAX_PAGE
            )
        tokens = self._tokens(http, f"{root}/{self.tenant}/oauth2/v2.0/token", clock)
        provider = MicrosoftGraphProvider(
            http, tokens, graph_base_url=root, tenant_id=self.tenant, fetch_tags=fetch_tags,
            page_size=page_size or GRAPH_MAX_PAGE,
        )  # fmt: skip
        if not self.calendar_id:
            calendars = await provider.list_calendars()
            self.calendar_id = next(c.id for c in calendars if c.primary)
        return provider

    def _tokens(
        self, http: httpx.AsyncClient, url: str, clock: Callable[[], float]
    ) -> RefreshingTokenSource:
        self.tokens = RefreshingTokenSource(
            http, url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            refresh_token=self.issued["refresh_token"], access_token=self.issued["access_token"],
            expires_at=clock() + 3000, provider=self.provider_name, clock=clock,
        )  # fmt: skip
        return self.tokens

    async def listing_size(self, http: httpx.AsyncClient, window: Any) -> int:
        """Items one full listing returns (with the largest page the provider allows)."""
        max_page = GOOGLE_MAX_PAGE if self.provider_name == "google" else GRAPH_MAX_PAGE
        adapter = await self.adapter(http, page_size=max_page, fetch_tags=False)
        items = 0
        async for page in adapter.changes(self.calendar_id, None, window):
            items += len(page.events) + len(page.removed)
        return items

    # -- edits by another client -----------------------------------------------------------

    def _events_path(self) -> str:
        if self.provider_name == "google":
            return f"/calendars/{self.calendar_id}/events"
        return f"/users/{self.oid}/events"

    async def insert(self, body: dict[str, Any]) -> str:
        return str((await self.admin.call("POST", self._events_path(), body))["id"])

    async def retitle(self, event_id: str, title: str) -> None:
        field_name = "summary" if self.provider_name == "google" else "subject"
        await self.admin.call("PATCH", f"{self._events_path()}/{event_id}", {field_name: title})

    async def delete(self, event_id: str) -> None:
        await self.admin.call("DELETE", f"{self._events_path()}/{event_id}")

    async def event_ids(self) -> list[str]:
        """Ids of the stored single events and series masters (as the admin view lists them)."""
        return sorted(str(e["id"]) for e in await self.admin.call("GET", self._events_path()))

    async def throttle(self, *, concurrent: int, per_window: int, window_seconds: float) -> None:
        await self.admin.call("POST", f"/users/{self.oid}/throttling", {
            "enabled": True, "concurrent": concurrent, "per_window": per_window,
            "window_seconds": window_seconds,
        })  # fmt: skip

    async def seed(self, specs: Sequence[RemoteSpec]) -> None:
        """Create every spec, then make one edited and one cancelled occurrence per series."""
        body = google_body if self.provider_name == "google" else graph_body
        ids = await _gather([partial(self.insert, body(s)) for s in specs])
        edits: list[Callable[[], Awaitable[None]]] = []
        for spec, master in zip(specs, ids, strict=True):
            if spec.kind != "weekly":
                continue
            moved = f"{master}_{spec.occurrence_stamp(MOVED)}"
            cancelled = f"{master}_{spec.occurrence_stamp(CANCELLED)}"
            edits.append(partial(self.retitle, moved, f"{spec.title} (moved)"))
            edits.append(partial(self.delete, cancelled))
        await _gather(edits)


async def _gather(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(SEED_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))
