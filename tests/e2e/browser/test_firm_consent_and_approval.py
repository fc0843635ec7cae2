"""Rolling out to a whole firm, in a real browser: the firm admin (also the Microsoft tenant's
admin) consents once from Firm settings; with connections.require_approval on, Ann connects
without any consent step, her connection waits as "Awaiting approval", and the admin approves
it on the approvals page, after which it syncs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import STEP_TIMEOUT_MS, Shots, Stack, sign_in

from casecal.domain.settings_catalog import Level
from casecal.services.firm_settings import Scope, set_value
from casecal.store.tables import Role

pytestmark = pytest.mark.browser


def test_consent_once_then_approve_a_connection(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("button", name="Add a seat for Ann Lee").click()
    expect(page.get_by_role("button", name="Remove seat of Ann Lee")).to_be_visible()

    page.goto(f"{stack.url}/firm-settings")
    page.get_by_role(
        "button", name="Consent to the calendar integration on behalf of your entire firm"
    ).click()
    page.wait_for_url(re.compile(r".*/calendar-sync\?.*flash=consent_recorded.*"))
    page.goto(f"{stack.url}/firm-settings")
    expect(page.locator("#firm-consents")).to_contain_text("Consented by admin@contoso.com")
    shots(page, "firm-consented")

    async def require_approval(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await set_value(session, admin, Scope(Level.FIRM, stack.firm_id),
                        "connections.require_approval", True, locked=False)  # fmt: skip

    stack.run(require_approval)

    ann = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    ann.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(ann, stack.url, "ann@contoso.com")
    ann.get_by_role("button", name="Microsoft 365 / Exchange").click()
    expect(ann.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    ann.get_by_role("button", name="Submit").click()
    expect(ann.locator("#connection-state")).to_have_text("Awaiting approval")
    expect(ann.get_by_text("starts syncing as soon as an admin approves")).to_be_visible()
    shots(ann, "ann-awaiting-approval")

    page.goto(f"{stack.url}/calendar-sync")
    page.get_by_role("link", name="Connections waiting for approval").click()
    row = page.locator("#approvals tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ann Lee")
    shots(page, "approval-queue")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: syncing has started.")).to_be_visible()
    expect(page.locator("#approvals-empty")).to_be_visible()

    ann.goto(f"{stack.url}/calendar-sync")
    expect(ann.locator("#connection-state")).to_have_text(re.compile(r"Active|Syncing"))
    shots(ann, "ann-active")
