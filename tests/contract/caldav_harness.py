"""The contract harness for CalDAV: the adapter against a real server (Radicale or Xandikos,
started on loopback by ``casecal.emulators.caldav_servers``), with faults injected on the
client side of the wire, since a real server has no fault switch.

How the suite's words map onto CalDAV:

- a fault on ``GET`` applies to every read (CalDAV reads with GET, PROPFIND and REPORT), and a
  fault on ``POST`` of the create path applies to the create (a PUT with ``If-None-Match: *``);
- "expire the cursors": Radicale forgets its sync tokens (what ``max_sync_token_age`` does);
  Xandikos, whose tokens are its git history, gets the collection back with the same events
  and a history that does not know the old token (a restore from backup);
- "revoke the grant": the user's app password is changed on the server;
- there are no access tokens, no consent and no push in CalDAV: the tests about those say so
  and do not apply (``pytest.skip`` with the reason).
"""

from __future__ import annotations

import re
import shutil
from typing import Any, NoReturn

import httpx
import icalendar
import pytest
from contract_harness import Harness, Receiver

from casecal.emulators import caldav_servers
from casecal.emulators.caldav_faults import FaultTransport
from casecal.emulators.caldav_servers import CalDavServer
from casecal.emulators.faults import Fault
from casecal.providers import Provider, RetryPolicy
from casecal.providers.caldav import BasicCredentials, CalDavProvider

ICS = {"Content-Type": "text/calendar"}
ELSEWHERE = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Elsewhere//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:elsewhere-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261210T150000Z\r\n"
    b"DTEND:20261210T160000Z\r\nSUMMARY:Made elsewhere\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class ServerRecord:
    """What the suite asks of an "emulator", answered from the real server and the wire."""

    def __init__(self, harness: CalDavHarness) -> None:
        self.harness = harness
        self.faults = harness.transport.faults

    def sent_messages(self) -> list[str]:
        """Invitations a scheduling server (RFC 6638; Fastmail) would mail: every ATTENDEE we
        wrote without ``SCHEDULE-AGENT=CLIENT``. Radicale and Xandikos (iMIP off) mail no one,
        so the wire is what can be checked."""
        found = []
        for request in self.harness.sent:
            if request.method != "PUT":
                continue
            for line in request.content.decode().replace("\r\n ", "").splitlines():
                if line.startswith("ATTENDEE") and "SCHEDULE-AGENT=CLIENT" not in line:
                    found.append(line)
        return found

    async def flush_notifications(self) -> None:
        return None


class CalDavHarness(Harness):
    name = "caldav"
    create_path = r"\.ics$"

    def __init__(
        self,
        client: httpx.AsyncClient,
        receiver: Receiver,
        transport: FaultTransport,
        server: CalDavServer,
    ) -> None:
        super().__init__(client, receiver, transport.sent)
        self.transport = transport
        self.server = server
        self.emulator = ServerRecord(self)
        self.credentials = BasicCredentials(server.username, server.password)
        self.provider = self.build()
        self.calendar_id = server.calendar_url

    def build(self, **kwargs: Any) -> CalDavProvider:
        return CalDavProvider(
            self.client,
            self.credentials,
            server_url=self.server.url,
            username=self.server.username,
            sleep=self.sleep,
            policy=RetryPolicy(),
            **kwargs,
        )

    def arm(self, fault: Fault) -> Fault:
        return self.transport.faults.add(fault)

    def stored_titles(self) -> list[str]:
        """The SUMMARY of every resource in the calendar, read past the adapter."""
        titles = []
        with self.server.client() as http:
            listing = http.request("PROPFIND", self.calendar_id, headers={"Depth": "1"})
            hrefs = re.findall(r"<(?:\w+:)?href>([^<]+\.ics)</(?:\w+:)?href>", listing.text)
            for href in hrefs:
                body = http.get(httpx.URL(self.calendar_id).join(href)).content
                for item in icalendar.Calendar.from_ical(body).walk("VEVENT"):
                    if "RECURRENCE-ID" not in item:
                        titles.append(str(item.get("SUMMARY", "")))
        return sorted(titles)

    def expire_cursors(self) -> None:
        """Another client changes the calendar, and the server forgets its token history. (A
        token for an unchanged collection stays valid on both servers: it names the current
        state, so there must be a change for it to go stale.)"""
        with self.server.client() as http:
            listing = http.request("PROPFIND", self.calendar_id, headers={"Depth": "1"})
            hrefs = re.findall(r"<(?:\w+:)?href>([^<]+\.ics)</(?:\w+:)?href>", listing.text)
            bodies = {h: http.get(httpx.URL(self.calendar_id).join(h)).content for h in hrefs}
        if self.server.kind == "xandikos":
            # Its tokens name git trees of the collection (metadata included): a collection
            # restored with other metadata has none of the old trees.
            self.server.reset_calendar(display_name="Calendar (restored)")
        with self.server.client() as http:
            if self.server.kind == "xandikos":
                for href, body in bodies.items():
                    http.put(httpx.URL(self.calendar_id).join(href), content=body, headers=ICS)
            http.put(
                httpx.URL(self.calendar_id).join("elsewhere.ics"), content=ELSEWHERE, headers=ICS
            )
        if self.server.kind == "radicale":  # what its max_sync_token_age does
            storage = self.server.root / "storage" / "collection-root"
            for cache in storage.rglob(".Radicale.cache"):
                shutil.rmtree(cache / "sync-token", ignore_errors=True)

    def revoke_grant(self) -> None:
        self.server.set_password(caldav_servers.PASSWORD + "-changed")

    def expire_access_token(self) -> NoReturn:
        pytest.skip("CalDAV: Basic auth with an app password has no access token to refresh")

    def provider_without_consent(self) -> NoReturn:
        pytest.skip("CalDAV: an app password grants the whole account; there is no consent")

    def paged(self, page_size: int) -> Provider:
        return self.build(page_size=page_size)

    def wire_problems(self) -> list[str]:
        """Creates carry ``If-None-Match: *``; nothing ever sends ``If-Match: *`` (inverted on
        iCloud, literal on Radicale); every PUT is ``text/calendar``; a sync-collection REPORT
        is Depth 0 and never sends ``DAV:limit`` (servers cut silently with it)."""
        problems = []
        for r in self.sent:
            if r.headers.get("if-match") == "*":
                problems.append(f"{r.method} {r.url.path} with If-Match: *")
            if r.method == "PUT":
                if not r.headers.get("content-type", "").startswith("text/calendar"):
                    problems.append(f"PUT {r.url.path} is not text/calendar")
                if "if-none-match" not in r.headers and "if-match" not in r.headers:
                    problems.append(f"PUT {r.url.path} without a precondition")
            body = r.content.decode(errors="replace")
            if r.method == "REPORT" and "sync-collection" in body:
                if r.headers.get("depth") != "0":
                    problems.append("sync-collection without Depth: 0")
                if "limit" in body:
                    problems.append("sync-collection with DAV:limit")
        return problems
