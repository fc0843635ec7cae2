"""Paused connections in a real browser: the admin removes Ann's seat and both pages say
"Paused: no seat" with what fixes it; the seat comes back and syncing resumes; the audit log
reads as words and names; a cancelled subscription shows when it was cancelled."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browser.harness import STEP_TIMEOUT_MS, Shots, Stack, sign_in

pytestmark = pytest.mark.browser

SEATS = "section[aria-labelledby=seats-title] tbody tr"


def test_a_removed_seat_pauses_with_the_fix_on_both_pages(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    stack.emulators.microsoft.grant_admin_consent(stack.tenant_id, "casecal-microsoft")
    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("button", name="Add a seat for Ann Lee").click()
    expect(page.get_by_role("button", name="Remove seat of Ann Lee")).to_be_visible()

    ann = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    ann.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(ann, stack.url, "ann@contoso.com")
    ann.get_by_role("button", name="Microsoft 365 / Exchange").click()
    ann.get_by_role("button", name="Submit").click()
    expect(ann.locator("#connection-state")).to_have_text(re.compile("Active|Syncing"))

    page.goto(f"{stack.url}/calendar-sync")
    page.get_by_role("button", name="Remove seat of Ann Lee").click()
    row = page.locator(SEATS, has_text="Ann Lee")
    expect(row).to_contain_text("Paused: no seat")
    expect(row).to_contain_text("Add the seat again to resume")
    expect(
        row.get_by_role("button", name=re.compile("Remove the events CaseCal created"))
    ).to_be_visible()
    log = page.locator("#audit-title + .table-wrap")
    expect(log).to_contain_text("Seat removed")
    expect(log).to_contain_text("Ann Lee's Microsoft 365 calendar")
    expect(log).not_to_contain_text("connection:")
    shots(page, "admin-sees-paused-no-seat")

    ann.goto(f"{stack.url}/calendar-sync")
    expect(ann.locator("#connection-state")).to_have_text("Paused: no seat")
    expect(ann.get_by_text("Ask your firm admin for a seat")).to_be_visible()
    expect(ann.get_by_role("button", name="Sync now")).to_have_count(0)
    shots(ann, "manager-sees-paused-no-seat")

    page.get_by_role("button", name="Add a seat for Ann Lee").click()
    ann.goto(f"{stack.url}/calendar-sync")
    expect(ann.locator("#connection-state")).to_have_text(re.compile("Active|Syncing"))
    shots(ann, "manager-resumed")

    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator("#subscription-status")).to_have_text("Cancelled")
    expect(page.locator("#subscription-since")).to_contain_text("since")
    expect(page.locator(SEATS, has_text="Ann Lee")).to_contain_text(
        "Paused: subscription cancelled"
    )
    shots(page, "admin-subscription-cancelled")
    ann.goto(f"{stack.url}/calendar-sync")
    expect(ann.locator("#connection-state")).to_have_text("Paused: subscription cancelled")
    shots(ann, "manager-sees-paused-subscription")
    ann.context.close()
