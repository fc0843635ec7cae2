"""Connecting a CalDAV calendar in a real browser: Bob, seated, chooses iCloud, Fastmail,
Nextcloud on the Calendar Sync page, reads how to make an app password, picks the Nextcloud
preset, enters his server's address (a Radicale on loopback stands in for the Nextcloud
server; it is found through /.well-known/caldav), his username and an app password; a wrong
password is refused with the reason; with the right one he picks the calendar; a court date
made in CaseCal reaches Radicale and an event made there shows on CaseCal's calendar page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import FIRM_ZONE, Shots, Stack, sign_in, tomorrow_at_ten

from casecal.emulators import caldav_servers
from casecal.emulators.caldav_servers import CalDavServer
from casecal.services.case_entries import create_case_entry
from casecal.services.cases import create_case
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import CourtDate, Role

pytestmark = pytest.mark.browser

BOB = "bob@example.org"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDavServer]:
    server = caldav_servers.start("radicale", tmp_path / "radicale", username=BOB)
    yield server
    caldav_servers.remove(server)


def summaries(server: CalDavServer) -> list[str]:
    found = []
    with server.client() as http:
        listing = http.request("PROPFIND", server.calendar_url, headers={"Depth": "1"})
        for path in re.findall(r"<href>([^<]+\.ics)</href>", listing.text):
            body = http.get(httpx.URL(server.calendar_url).join(path)).content
            found += [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    return found


def test_connect_caldav_with_a_preset_and_an_app_password(
    page: Page, stack: Stack, shots: Shots, radicale: CalDavServer
) -> None:
    start = tomorrow_at_ten()

    async def seat_bob(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people["bob"])

    stack.run(seat_bob)
    sign_in(page, stack.url, BOB)
    shots(page, "bob-sees-connect")
    page.get_by_role("button", name=re.compile("iCloud, Fastmail, Nextcloud")).click()
    expect(page.get_by_role("heading", name=re.compile("Connect iCloud"))).to_be_visible()
    expect(page.locator("#help-icloud")).to_contain_text("App-Specific Passwords")
    expect(page.locator("#help-fastmail")).to_contain_text("app password")
    expect(page.locator("#help-nextcloud")).to_contain_text("Devices & sessions")
    shots(page, "presets-and-app-password-help")

    page.get_by_role("radio", name=re.compile("Nextcloud")).check()
    page.get_by_label(re.compile("Server address")).fill(radicale.url.rstrip("/"))
    page.get_by_label("Username").fill(BOB)
    page.get_by_label("App password").fill("wrong-app-password")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("refused the username and app password")
    expect(page.get_by_label("App password")).to_have_value("")
    shots(page, "wrong-app-password-refused")

    page.get_by_role("radio", name=re.compile("Nextcloud")).check()
    page.get_by_label("App password").fill(radicale.password)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("Primary"))).to_be_checked()
    shots(page, "choose-calendar")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#connection-state")).to_have_text("Active")
    shots(page, "connected")

    async def court_date(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        case_data = {"number": "C-300", "beneficiary": "Li Wei",
                     "manager_ids": [stack.people["bob"]]}  # fmt: skip
        case = await create_case(session, admin, case_data)
        entry = {"case_id": case.id, "hearing_type": "Individual hearing", "start_at": start}
        await create_case_entry(session, admin, CourtDate, entry)

    stack.run(court_date)
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    assert any("Individual hearing" in s for s in summaries(radicale)), summaries(radicale)

    later = (start + timedelta(hours=3)).astimezone(UTC)
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Phone//EN\r\nBEGIN:VEVENT\r\n"
        "UID:consulate-1\r\nDTSTAMP:20261201T000000Z\r\n"
        f"DTSTART:{later:%Y%m%dT%H%M%SZ}\r\nDTEND:{later + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:Call with the consulate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with radicale.client() as http:
        made = http.put(
            httpx.URL(radicale.calendar_url).join("consulate-1.ics"),
            content=body.encode(),
            headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
        )
        assert made.status_code == 201
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("1 in")
    shots(page, "synced")
    page.goto(f"{stack.url}/calendar?week={start.astimezone(FIRM_ZONE).date().isoformat()}")
    week = page.locator(".week")
    expect(week).to_contain_text("Call with the consulate")
    expect(week).to_contain_text("Individual hearing")
    expect(week.locator(".entry", has_text="Call with the consulate")).to_contain_text("Imported")
    shots(page, "calendar-page")
