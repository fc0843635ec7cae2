"""The Microsoft walk in a real browser: the admin subscribes and seats Ann; Ann connects
Microsoft 365, hits "approval required"; the admin consents from the panel; Ann finishes with
Modify, picks a calendar and opts in to step reminders; a court date made in CaseCal reaches
the emulated Outlook calendar and an appointment made there shows on CaseCal's calendar page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import (
    FIRM_ZONE,
    STEP_TIMEOUT_MS,
    Shots,
    Stack,
    sign_in,
    sign_out,
    tomorrow_at_ten,
)

from casecal.services.case_entries import create_case_entry
from casecal.services.cases import create_case
from casecal.store.tables import CourtDate, Role

pytestmark = pytest.mark.browser


def test_admin_subscribes_and_seats_a_case_manager(page: Page, stack: Stack, shots: Shots) -> None:
    sign_in(page, stack.url, "admin@contoso.com")
    shots(page, "admin-signed-in")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    expect(page.locator("#subscription-status")).to_have_text("Requested")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#subscription-status")).to_have_text("Active")
    shots(page, "subscription-active")
    page.get_by_role("button", name="Add a seat for Ann Lee").click()
    expect(page.get_by_role("button", name="Remove seat of Ann Lee")).to_be_visible()
    shots(page, "ann-seated")
    sign_out(page)
    sign_in(page, stack.url, "ann@contoso.com")
    expect(page.get_by_role("button", name="Microsoft 365 / Exchange")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()
    shots(page, "ann-sees-connect")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{stack.url}/calendar")
    expect(page.get_by_role("heading", name="My calendar")).to_be_visible()
    shots(page, "phone-calendar")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    sign_out(page)
    sign_in(page, stack.url, "bob@example.org")
    expect(page.get_by_text("No Calendar Sync seat yet")).to_be_visible()


def test_microsoft_with_admin_consent(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("button", name="Add a seat for Ann Lee").click()
    shots(page, "admin-seated-ann")

    ann = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    ann.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(ann, stack.url, "ann@contoso.com")
    ann.get_by_role("button", name="Microsoft 365 / Exchange").click()
    expect(ann.get_by_role("heading", name="Approval required")).to_be_visible()
    shots(ann, "ann-approval-required")
    ann.goto(f"{stack.url}/calendar-sync")
    expect(ann.locator("#connection-state")).to_have_text("Awaiting admin consent")
    expect(ann.locator("#my-consent-url")).to_have_value(re.compile(stack.tenant_id))
    shots(ann, "ann-awaiting-consent")

    page.goto(f"{stack.url}/calendar-sync")
    panel = page.get_by_role("article", name=f"Tenant {stack.tenant_id}")
    expect(panel).to_contain_text("Consent required")
    expect(panel).to_contain_text("Ann Lee (ann@contoso.com)")
    panel.get_by_role("button", name="Copy").click()
    expect(panel.get_by_role("button", name="Copied")).to_be_visible()
    shots(page, "admin-consent-panel")
    panel.get_by_role("button", name="Grant consent now").click()
    page.wait_for_url(re.compile(r".*/calendar-sync\?.*flash=consent_recorded.*"))
    expect(panel).to_contain_text("Consented")
    shots(page, "admin-consented")

    ann.goto(f"{stack.url}/calendar-sync")
    ann.get_by_role("button", name="Modify").click()
    expect(ann.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    primary = ann.get_by_role("radio", name=re.compile(r"Calendar\s+Primary"))
    expect(primary).to_be_checked()
    ann.get_by_label(re.compile("Also put my case-step reminders")).check()
    shots(ann, "ann-choose-calendar")
    ann.get_by_role("button", name="Submit").click()
    expect(ann.locator("#connection-state")).to_have_text("Active")
    shots(ann, "ann-connected")

    start = tomorrow_at_ten()

    async def court_date(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        managers = [stack.people["ann"]]
        case_data = {"number": "A-100", "beneficiary": "Ana Diaz", "manager_ids": managers}
        case = await create_case(session, admin, case_data)
        entry = {"case_id": case.id, "hearing_type": "Master calendar hearing", "start_at": start}
        await create_case_entry(session, admin, CourtDate, entry)

    stack.run(court_date)
    ann.get_by_role("button", name="Sync now").click()
    expect(ann.get_by_text("Sync finished.")).to_be_visible()
    shots(ann, "ann-synced")
    subjects = [e["subject"] for e in stack.emulators.microsoft.events(stack.ms_oid)]
    assert any("Master calendar hearing" in s for s in subjects), subjects

    outlook = browser.new_context().new_page()
    calendar_id = stack.emulators.microsoft.state.users[stack.ms_oid].default_calendar_id
    outlook.goto(
        f"{stack.emulators_url}/microsoft/view/{stack.ms_oid}/{quote(calendar_id, safe='')}"
    )
    expect(outlook.locator("table")).to_contain_text("Master calendar hearing")
    shots(outlook, "outlook-calendar")
    outlook.context.close()

    stack.emulators.microsoft.create_event_as_other(stack.ms_oid, {
        "subject": "Lunch with opposing counsel",
        "start": {"dateTime": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"),
                  "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC"},
    })  # fmt: skip
    ann.get_by_role("button", name="Sync now").click()
    expect(ann.get_by_text("Sync finished.")).to_be_visible()
    ann.goto(f"{stack.url}/calendar?week={start.astimezone(FIRM_ZONE).date().isoformat()}")
    expect(ann.locator(".week")).to_contain_text("Lunch with opposing counsel")
    expect(ann.locator(".week")).to_contain_text("Master calendar hearing")
    lunch = ann.locator(".week .entry", has_text="Lunch with opposing counsel")
    expect(lunch).to_contain_text("Imported")
    shots(ann, "ann-calendar-page")
    ann.context.close()
