"""The emulated calendar of one case manager, seen the same way for either provider: list,
and edit as another client would (Outlook, the Google Calendar app)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from casecal.emulators.faults import FaultInjector
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.emulators.requestlog import RequestLog
from casecal.providers.base import Provider
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.tokens import RefreshingTokenSource

CLIENT_ID, CLIENT_SECRET = "casecal-test", "casecal-secret"
REDIRECT = "http://testserver/oauth/callback"


@dataclass(frozen=True)
class RemoteItem:
    id: str
    title: str


class Remote(Protocol):
    name: str
    calendar_id: str
    log: RequestLog
    faults: FaultInjector
    feed_path: str
    """A regular expression matching the change-feed request's path."""

    def items(self) -> list[RemoteItem]: ...
    def insert(
        self, title: str, start: datetime, end: datetime, *, private: bool = False
    ) -> str: ...
    def insert_all_day(self, title: str, first: date, end: date) -> str: ...
    def insert_weekly(self, title: str, start: datetime, end: datetime, count: int) -> str: ...
    def raw(self, event_id: str) -> dict[str, Any]: ...
    def retitle(self, event_id: str, title: str) -> None: ...
    def cancel_occurrence(self, series_id: str, original_start: datetime) -> None: ...
    def change_occurrence(
        self, series_id: str, original_start: datetime, title: str, start: datetime
    ) -> None: ...
    def move(self, event_id: str, start: datetime, end: datetime) -> None: ...
    def delete(self, event_id: str) -> None: ...
    def expire_cursor(self) -> None: ...
    def forget_deleted(self) -> None: ...
    async def provider(self, email: str) -> tuple[Provider, httpx.AsyncClient]: ...


class GoogleRemote:
    name = "google"
    base = "http://google.test"

    def __init__(self, email: str) -> None:
        self.emu = GoogleEmulator(seed=1)
        self.emu.add_account(email, name="Case Manager")
        self.emu.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
        self.calendar_id = email
        self.log = self.emu.log
        self.faults = self.emu.faults
        self.feed_path = r"/events$"

    def items(self) -> list[RemoteItem]:
        """Single events and series (a changed occurrence is stored as an instance of its
        own, part of its series)."""
        return [
            RemoteItem(e["id"], e.get("summary", ""))
            for e in self.emu.events(self.calendar_id)
            if "recurringEventId" not in e
        ]

    def insert(self, title: str, start: datetime, end: datetime, *, private: bool = False) -> str:
        body: dict[str, Any] = {
            "summary": title,
            "description": "from the calendar app",
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        }
        if private:
            body["visibility"] = "private"
        return str(self.emu.client_insert(self.calendar_id, body)["id"])

    def insert_all_day(self, title: str, first: date, end: date) -> str:
        body = {"summary": title, "start": {"date": first.isoformat()},
                "end": {"date": end.isoformat()}}  # fmt: skip
        return str(self.emu.client_insert(self.calendar_id, body)["id"])

    def insert_weekly(self, title: str, start: datetime, end: datetime, count: int) -> str:
        body = {
            "summary": title,
            "start": {"dateTime": start.isoformat(), "timeZone": "America/New_York"},
            "end": {"dateTime": end.isoformat(), "timeZone": "America/New_York"},
            "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
        }
        return str(self.emu.client_insert(self.calendar_id, body)["id"])

    def raw(self, event_id: str) -> dict[str, Any]:
        return next(e for e in self.emu.events(self.calendar_id) if e["id"] == event_id)

    def retitle(self, event_id: str, title: str) -> None:
        self.emu.client_patch(self.calendar_id, event_id, {"summary": title})

    def delete(self, event_id: str) -> None:
        self.emu.client_delete(self.calendar_id, event_id)

    def cancel_occurrence(self, series_id: str, original_start: datetime) -> None:
        self.emu.client_delete(self.calendar_id, f"{series_id}_{_stamp(original_start)}")

    def change_occurrence(
        self, series_id: str, original_start: datetime, title: str, start: datetime
    ) -> None:
        """Retitle and move one occurrence (an hour long), as the calendar app does."""
        self.emu.client_patch(self.calendar_id, f"{series_id}_{_stamp(original_start)}", {
            "summary": title,
            "start": {"dateTime": start.isoformat(), "timeZone": "America/New_York"},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat(),
                    "timeZone": "America/New_York"},
        })  # fmt: skip

    def move(self, event_id: str, start: datetime, end: datetime) -> None:
        self.emu.client_patch(self.calendar_id, event_id, {
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        })  # fmt: skip

    def expire_cursor(self) -> None:
        self.emu.expire_sync_tokens()

    def forget_deleted(self) -> None:
        self.emu.purge_tombstones(self.calendar_id)

    async def provider(self, email: str) -> tuple[Provider, httpx.AsyncClient]:
        scopes = ["openid", "email", "https://www.googleapis.com/auth/calendar.events"]
        issued = self.emu.issue_tokens(email, CLIENT_ID, scopes)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.emu.app), base_url=self.base
        )
        tokens = _tokens(http, f"{self.base}/token", issued, "google")
        return GoogleCalendarProvider(http, tokens, api_base_url=self.base), http


class MicrosoftRemote:
    name = "microsoft"
    base = "http://microsoft.test"

    def __init__(self, email: str) -> None:
        self.emu = MicrosoftEmulator(seed=1)
        self.tenant = self.emu.add_tenant(domain=email.split("@", 1)[1])
        self.oid = self.emu.add_user(self.tenant, email, "Case Manager")
        self.emu.register_app(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
        self.calendar_id = ""
        self.log = self.emu.log
        self.faults = self.emu.faults
        self.feed_path = r"/delta$"

    def items(self) -> list[RemoteItem]:
        events = self.emu.events(self.oid, self.calendar_id or None)
        return [RemoteItem(e["id"], e.get("subject", "")) for e in events]

    def insert(self, title: str, start: datetime, end: datetime, *, private: bool = False) -> str:
        body: dict[str, Any] = {
            "subject": title,
            "body": {"contentType": "html", "content": "<p>from the calendar app</p>"},
            "start": {"dateTime": start.replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
        }
        if private:
            body["sensitivity"] = "private"
        created = self.emu.create_event_as_other(self.oid, body, self.calendar_id or None)
        return str(created["id"])

    def insert_all_day(self, title: str, first: date, end: date) -> str:
        body = {"subject": title, "isAllDay": True,
                "start": {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"{end.isoformat()}T00:00:00", "timeZone": "UTC"}}  # fmt: skip
        created = self.emu.create_event_as_other(self.oid, body, self.calendar_id or None)
        return str(created["id"])

    def insert_weekly(self, title: str, start: datetime, end: datetime, count: int) -> str:
        local = start.astimezone(ZoneInfo("America/New_York"))
        body = {
            "subject": title,
            "start": {"dateTime": local.replace(tzinfo=None).isoformat(),
                      "timeZone": "Eastern Standard Time"},
            "end": {"dateTime": end.astimezone(local.tzinfo).replace(tzinfo=None).isoformat(),
                    "timeZone": "Eastern Standard Time"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1,
                            "daysOfWeek": [local.strftime("%A").lower()]},
                "range": {"type": "numbered", "startDate": local.date().isoformat(),
                          "numberOfOccurrences": count},
            },
        }  # fmt: skip
        created = self.emu.create_event_as_other(self.oid, body, self.calendar_id or None)
        return str(created["id"])

    def raw(self, event_id: str) -> dict[str, Any]:
        events = self.emu.events(self.oid, self.calendar_id or None)
        return next(e for e in events if e["id"] == event_id)

    def retitle(self, event_id: str, title: str) -> None:
        self.emu.update_event_as_other(self.oid, event_id, {"subject": title})

    def delete(self, event_id: str) -> None:
        self.emu.delete_event_as_other(self.oid, event_id)

    def cancel_occurrence(self, series_id: str, original_start: datetime) -> None:
        self.emu.delete_event_as_other(self.oid, f"{series_id}_{_stamp(original_start)}")

    def change_occurrence(
        self, series_id: str, original_start: datetime, title: str, start: datetime
    ) -> None:
        """Retitle and move one occurrence (an hour long): it becomes an exception."""
        utc = start.astimezone(UTC).replace(tzinfo=None)
        self.emu.update_event_as_other(self.oid, f"{series_id}_{_stamp(original_start)}", {
            "subject": title,
            "start": {"dateTime": utc.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (utc + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        })  # fmt: skip

    def move(self, event_id: str, start: datetime, end: datetime) -> None:
        self.emu.update_event_as_other(self.oid, event_id, {
            "start": {"dateTime": start.astimezone(UTC).replace(tzinfo=None).isoformat(),
                      "timeZone": "UTC"},
            "end": {"dateTime": end.astimezone(UTC).replace(tzinfo=None).isoformat(),
                    "timeZone": "UTC"},
        })  # fmt: skip

    def expire_cursor(self) -> None:
        self.emu.expire_delta_tokens()

    def forget_deleted(self) -> None:
        """Graph keeps no tombstones: nothing to purge."""

    async def provider(self, email: str) -> tuple[Provider, httpx.AsyncClient]:
        scopes = ["openid", "email", "offline_access", "User.Read", "Calendars.ReadWrite"]
        issued = self.emu.issue_tokens(email, CLIENT_ID, scopes)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.emu.app), base_url=self.base
        )
        token_url = f"{self.base}/{self.tenant}/oauth2/v2.0/token"
        tokens = _tokens(http, token_url, issued, "microsoft")
        provider = MicrosoftGraphProvider(
            http, tokens, graph_base_url=self.base, tenant_id=self.tenant
        )
        calendars = await provider.list_calendars()
        self.calendar_id = next(c.id for c in calendars if c.primary)
        return provider, http


def _tokens(
    http: httpx.AsyncClient, token_url: str, issued: dict[str, Any], provider: str
) -> RefreshingTokenSource:
    return RefreshingTokenSource(
        http,
        token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=issued["refresh_token"],
        access_token=issued["access_token"],
        expires_at=time.time() + 3000,
        provider=provider,
    )


def _stamp(original_start: datetime) -> str:
    """The UTC stamp both emulators put in an occurrence id (``<series>_<stamp>``)."""
    return original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_remote(name: str, email: str) -> GoogleRemote | MicrosoftRemote:
    return GoogleRemote(email) if name == "google" else MicrosoftRemote(email)
