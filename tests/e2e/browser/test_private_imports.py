"""An appointment imported from a case manager's own calendar, without a case, in a real
browser: Bob makes it in the emulated Google calendar and a pass brings it in; he sees it in
full on his calendar page and its own page; the firm admin finds nothing of it (its link
answers like a missing entry, her calendar page does not list it) until Bob shares it, and
then she reads it in full."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import FIRM_ZONE, Shots, Stack, sign_in, sign_out, tomorrow_at_ten

from casecal.services.appointments import share_appointment
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import Role

pytestmark = pytest.mark.browser

BOB = "bob@example.org"
ADMIN = "admin@contoso.com"
TITLE = "Therapy with Dr. Ames"
PLACE = "Ames Clinic, 5th floor"


def _seat_bob(stack: Stack) -> None:
    async def seat(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people["bob"])

    stack.run(seat)


def _connect_google(page: Page, stack: Stack) -> None:
    sign_in(page, stack.url, BOB)
    page.get_by_role("button", name="Sign in with Google").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#connection-state")).to_have_text("Active")


def _share(stack: Stack, entry_id: uuid.UUID) -> None:
    async def share(session: AsyncSession) -> None:
        await share_appointment(
            session, stack.actor("bob", Role.CASE_MANAGER), entry_id, shared=True
        )
        await session.commit()

    stack.run(share)


def test_an_imported_personal_appointment_stays_private_until_shared(
    page: Page, stack: Stack, shots: Shots
) -> None:
    start = tomorrow_at_ten() + timedelta(hours=3)  # 13:00 in the firm's zone
    week = f"{stack.url}/calendar?week={start.astimezone(FIRM_ZONE).date().isoformat()}"
    _seat_bob(stack)
    _connect_google(page, stack)
    stack.emulators.google.client_insert(BOB, {
        "summary": TITLE, "location": PLACE, "description": "Weekly, personal",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    })  # fmt: skip
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()

    page.goto(week)
    entry = page.locator(".week .entry", has_text=TITLE)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Imported")
    expect(entry).to_contain_text("13:00-14:00")
    expect(entry).to_contain_text(PLACE)
    shots(page, "owner-sees-it-in-full")
    link = entry.get_by_role("link")
    href = link.get_attribute("href") or ""
    match = re.fullmatch(r"/entries/appointment/([0-9a-f-]{36})", href)
    assert match, href
    entry_url = f"{stack.url}{href}"
    link.click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text(PLACE)
    shots(page, "owner-opens-it")
    sign_out(page)

    sign_in(page, stack.url, ADMIN)
    page.goto(week)
    expect(page.locator("#calendar-region")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(TITLE)
    expect(page.locator("main")).not_to_contain_text(PLACE)
    response = page.goto(entry_url)
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Entry not found")).to_be_visible()
    expect(page.locator("main")).to_contain_text("it is not yours to see")
    expect(page.locator("body")).not_to_contain_text(TITLE)
    expect(page.locator("body")).not_to_contain_text(PLACE)
    shots(page, "admin-finds-nothing-to-open")

    _share(stack, uuid.UUID(match.group(1)))
    response = page.goto(entry_url)
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text(PLACE)
    expect(page.locator(".facts")).to_contain_text("13:00")
    shots(page, "admin-reads-it-once-shared")
