"""Entries made and changed in a real browser: Ann creates a weekly appointment from the
calendar page, opens it, changes it and deletes it; a form with the end before the start shows
the error by the Ends field; and the link a pushed event carries, opened signed out, lands on
the entry after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import FIRM_ZONE, PASSWORD, Shots, Stack, sign_in, tomorrow_at_ten

from casecal.domain.mapping import entry_link
from casecal.services.appointments import create_appointment
from casecal.store.tables import EntryKind, Role

pytestmark = pytest.mark.browser

ANN = "ann@contoso.com"


def test_create_change_and_delete_an_appointment(page: Page, stack: Stack, shots: Shots) -> None:
    start = tomorrow_at_ten().astimezone(FIRM_ZONE)
    day = start.date()
    sign_in(page, stack.url, ANN)
    page.get_by_role("link", name="Calendar", exact=True).click()
    page.get_by_role("link", name="New appointment").click()
    expect(page.get_by_role("heading", name="New appointment")).to_be_visible()
    page.locator("#f-title").fill("Case review")
    page.locator("#f-start_at").fill(f"{day}T10:00")
    page.locator("#f-end_at").fill(f"{day}T11:00")
    page.locator("#f-repeat").select_option("WEEKLY")
    page.locator("#f-repeat_count").fill("3")
    page.locator("#f-location").fill("Room 4")
    shots(page, "new-appointment-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The entry is saved")
    entry = page.locator(".week .entry", has_text="Case review")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("10:00-11:00")
    shots(page, "appointment-in-the-week")
    entry.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Case review")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Every week, 3 times")
    shots(page, "appointment-page")
    page.get_by_role("link", name="Edit").click()
    page.locator("#f-title").fill("Case review with Li")
    page.locator("#f-end_at").fill(f"{day}T11:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your changes are saved")
    expect(page.get_by_role("heading", name="Case review with Li")).to_be_visible()
    zone = start.strftime("%Z")  # EST or EDT: the page names the viewer's zone
    expect(page.locator(".facts")).to_contain_text(f"10:00 {zone} to 11:30 {zone}")
    shots(page, "appointment-changed")
    page.get_by_text("Delete…").click()
    shots(page, "delete-confirmation")
    page.get_by_role("button", name="Delete this entry").click()
    expect(page.get_by_role("status")).to_contain_text("The entry is deleted")
    expect(page.locator(".entry", has_text="Case review")).to_have_count(0)
    shots(page, "appointment-deleted")


def test_a_validation_error_shows_by_its_field(page: Page, stack: Stack, shots: Shots) -> None:
    day = tomorrow_at_ten().astimezone(FIRM_ZONE).date()
    sign_in(page, stack.url, ANN)
    page.goto(f"{stack.url}/entries/new/appointment")
    page.locator("#f-title").fill("Backwards")
    page.locator("#f-start_at").fill(f"{day}T10:00")
    page.locator("#f-end_at").fill(f"{day}T09:00")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#err-end_at")
    expect(error).to_be_visible()
    expect(error).to_contain_text("is before Starts")
    expect(page.locator("#f-end_at")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-title")).to_have_value("Backwards")
    expect(page.get_by_role("alert")).to_contain_text("The entry was not saved")
    shots(page, "error-by-the-ends-field")


def test_the_pushed_link_lands_on_the_entry_after_sign_in(
    page: Page, stack: Stack, shots: Shots
) -> None:
    async def appointment(session: AsyncSession) -> str:
        ann = stack.actor("ann", Role.CASE_MANAGER)
        start = tomorrow_at_ten()
        made = await create_appointment(session, ann, {
            "title": "Consultation", "start_at": start, "end_at": start + timedelta(hours=1),
        })  # fmt: skip
        return entry_link(stack.url, EntryKind.APPOINTMENT, made.id)

    link = stack.run(appointment)
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in to CaseCal")).to_be_visible()
    shots(page, "link-asks-to-sign-in")
    page.get_by_label("Email").fill(ANN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(link) + "$"))
    expect(page.get_by_role("heading", name="Consultation")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("10:00")
    shots(page, "link-lands-on-the-entry")
