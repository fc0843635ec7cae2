"""The Google walk in a real browser: Bob, seated, signs in with Google, sees his writable
calendars with the primary one marked (a read-only one is not offered), opts in to step
reminders; a court date made in CaseCal reaches the emulated Google calendar and an appointment
made there shows on CaseCal's calendar page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import FIRM_ZONE, Shots, Stack, sign_in, tomorrow_at_ten

from casecal.services.case_entries import create_case_entry
from casecal.services.cases import create_case
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import CourtDate, Role

pytestmark = pytest.mark.browser

BOB = "bob@example.org"


def test_google_sign_in_and_two_way_sync(page: Page, stack: Stack, shots: Shots) -> None:
    start = tomorrow_at_ten()

    async def seat_bob(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people["bob"])

    stack.run(seat_bob)
    sign_in(page, stack.url, BOB)
    shots(page, "bob-sees-connect")
    page.get_by_role("button", name="Sign in with Google").click()
    expect(page.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    primary = page.get_by_role("radio", name=re.compile(rf"{re.escape(BOB)}\s+Primary"))
    expect(primary).to_be_checked()
    expect(page.get_by_role("radio", name="Court dates")).to_be_visible()
    expect(page.get_by_role("radio", name="Holidays")).to_have_count(0)  # read-only
    page.get_by_label(re.compile("Also put my case-step reminders")).check()
    shots(page, "bob-choose-calendar")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#connection-state")).to_have_text("Active")
    expect(page.locator(".facts")).to_contain_text("Google Calendar")
    shots(page, "bob-connected")

    async def court_date(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        managers = [stack.people["bob"]]
        case_data = {"number": "B-200", "beneficiary": "Li Wei", "manager_ids": managers}
        case = await create_case(session, admin, case_data)
        entry = {"case_id": case.id, "hearing_type": "Individual hearing", "start_at": start}
        await create_case_entry(session, admin, CourtDate, entry)

    stack.run(court_date)
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    google = stack.emulators.google
    summaries = [e.get("summary", "") for e in google.events(BOB)]
    assert any("Individual hearing" in s for s in summaries), summaries

    google.client_insert(BOB, {
        "summary": "Call with the consulate",
        "start": {"dateTime": (start + timedelta(hours=3)).isoformat()},
        "end": {"dateTime": (start + timedelta(hours=4)).isoformat()},
    })  # fmt: skip
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("1 in")
    shots(page, "bob-synced")
    page.goto(f"{stack.url}/calendar?week={start.astimezone(FIRM_ZONE).date().isoformat()}")
    week = page.locator(".week")
    expect(week).to_contain_text("Call with the consulate")
    expect(week).to_contain_text("Individual hearing")
    expect(week.locator(".entry", has_text="Call with the consulate")).to_contain_text("Imported")
    shots(page, "bob-calendar-page")

    google_view = page.context.new_page()
    google_view.goto(f"{stack.emulators_url}/google/view/{quote(BOB, safe='')}")
    expect(google_view.locator("body")).to_contain_text("Individual hearing")
    shots(google_view, "google-calendar")
    google_view.close()
