"""A peer beside CaseCal in the import scenario: Home Assistant's ``gcal_sync`` (from the
package index) imports the same emulated Google calendar, in the same process, right after
CaseCal did, into its own store (its in-memory store: a JSON-like dict, as Home Assistant
keeps it). Its CPU and wall time are measured like CaseCal's, so the two read as a ratio.

``gcal_sync`` validates each event with pydantic and keeps it; CaseCal also maps each event to
its canonical form, writes the appointment row, its link and both fingerprints. For Graph no
maintained client library can be pointed at another base URL without patching it (the
Graph SDKs take the cloud's endpoints from their own configuration and need its
authentication flows), so the Graph import has no peer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from gcal_sync.api import GoogleCalendarService, SyncEventsRequest
from gcal_sync.auth import AbstractAuth
from gcal_sync.store import InMemoryCalendarStore
from gcal_sync.sync import CalendarEventSyncManager

from bench.measure import Meter
from bench.report import Sample
from bench.scenarios.common import Setup

SCENARIO = "import (gcal_sync)"


class _Token(AbstractAuth):
    """The emulated account's access token, as Home Assistant's auth would hand it over."""

    def __init__(self, session: aiohttp.ClientSession, host: str, token: str) -> None:
        super().__init__(session, host)
        self._token = token

    async def async_get_access_token(self) -> str:
        return self._token


def stored_items(data: Any) -> int:
    """How many events a ``gcal_sync`` store holds (its items sit under scoped keys)."""
    if not isinstance(data, dict):
        return 0
    if isinstance(data.get("items"), dict):
        return len(data["items"])
    return sum(stored_items(value) for value in data.values())


async def gcal_sync_import(s: Setup, size: int, start: datetime) -> Sample:
    """``gcal_sync``'s full sync of the account's calendar from ``start`` on, measured."""
    store = InMemoryCalendarStore()
    async with aiohttp.ClientSession() as session:
        auth = _Token(
            session, f"{s.account.admin.root}/calendar/v3", s.account.issued["access_token"]
        )
        request = SyncEventsRequest(calendar_id=s.account.calendar_id, start_time=start)
        manager = CalendarEventSyncManager(
            GoogleCalendarService(auth), request_template=request, store=store
        )
        await s.account.admin.clear_log()
        meter = Meter()
        meter.start()
        await manager.run()
        measured = meter.stop()
    calls = len(await s.account.admin.log(s.account.email))
    sample = Sample(
        scenario=SCENARIO, provider="google", size=size, wall_s=measured.wall_s,
        cpu_s=measured.cpu_s, rss_growth_mb=measured.rss_growth_mb, requests=calls,
        round_trips=calls, minimum=calls, events=size,
    )  # fmt: skip
    sample.extra["stored"] = float(stored_items(await store.async_load()))
    sample.note = "a peer on the same calendar, after CaseCal's import; requests are its own"
    return sample
