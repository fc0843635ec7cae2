"""The connect flow without dead ends or stale states, in a real browser: an authorisation
left unfinished reads as such and Connect again finishes it; "Approval required" and "That
was not your account" are CaseCal pages (header, navigation, the consent link wrapped even on a
phone) that offer the next step themselves; after the admin consents, the case manager's page
shows one state, the right one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import STEP_TIMEOUT_MS, Shots, Stack, sign_in

from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import Role

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def _seat(stack: Stack, who: str) -> None:
    async def seat(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people[who])

    stack.run(seat)


def _is_an_app_page(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Calendar", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile("Calendar Sync"))).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator(".who")).to_contain_text(name)


def _fits(page: Page) -> None:
    """Nothing overflows the viewport sideways (the long consent link wraps)."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_unfinished_authorisation_offers_connect_again(
    page: Page, stack: Stack, shots: Shots
) -> None:
    _seat(stack, "bob")
    stack.emulators.google.auto_approve = False  # Google's page waits for Bob
    sign_in(page, stack.url, "bob@example.org")
    page.get_by_role("button", name="Sign in with Google").click()
    expect(page.get_by_label("Account")).to_be_visible()
    shots(page, "google-page-left-unfinished")
    page.goto(f"{stack.url}/calendar-sync")  # Bob comes back without finishing
    expect(page.locator("#connection-state")).to_have_text("Connection not finished")
    expect(page.get_by_text("did not finish signing in")).to_be_visible()
    expect(page.get_by_text("Last authenticated")).to_have_count(0)
    expect(page.get_by_role("link", name="Choose a calendar")).to_have_count(0)
    shots(page, "unfinished-reads-as-such")
    page.get_by_role("button", name="Connect again").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    expect(page.get_by_text("Signed in as bob@example.org")).to_be_visible()
    shots(page, "connect-again-finished")


def test_approval_required_offers_request_approval_and_consent_leaves_one_state(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    _seat(stack, "ann")
    sign_in(page, stack.url, "ann@contoso.com")
    page.get_by_role("button", name="Microsoft 365 / Exchange").click()
    expect(page.get_by_role("heading", name="Approval required")).to_be_visible()
    _is_an_app_page(page, "Ann Lee")
    expect(page.locator(".long-link")).to_contain_text(f"/{stack.tenant_id}/v2.0/adminconsent")
    expect(page.get_by_text("on the Microsoft page")).to_have_count(0)
    shots(page, "approval-required")
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("button", name="Request approval")).to_be_visible()
    _fits(page)
    shots(page, "approval-required-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Request approval").click()
    page.wait_for_url(re.compile(r".*/calendar-sync\?done=approval-requested"))
    expect(page.get_by_role("status")).to_contain_text("Your firm admins were asked")
    expect(page.locator("#connection-state")).to_have_text("Awaiting admin consent")
    shots(page, "approval-requested")

    admin = browser.new_context(viewport=DESKTOP).new_page()
    admin.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(admin, stack.url, "admin@contoso.com")
    panel = admin.get_by_role("article", name=f"Tenant {stack.tenant_id}")
    expect(panel).to_contain_text("contoso.com")
    expect(admin.locator("#audit-title + .table-wrap")).to_contain_text(
        "Approval requested from the firm admins"
    )
    panel.get_by_role("button", name="Grant consent now").click()
    admin.wait_for_url(re.compile(r".*/calendar-sync\?.*flash=consent_recorded.*"))
    expect(panel).to_contain_text("Consented")
    shots(admin, "admin-consented")
    admin.context.close()

    page.goto(f"{stack.url}/calendar-sync")
    expect(page.locator("#connection-state")).to_have_text("Approved: finish connecting")
    expect(page.get_by_text("Awaiting admin consent")).to_have_count(0)
    expect(page.locator("#my-consent-url")).to_have_count(0)
    shots(page, "one-state-after-consent")
    page.get_by_role("button", name="Modify").click()
    expect(page.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    shots(page, "finished-after-consent")


def test_not_your_account_is_an_app_page_with_connect_again(
    page: Page, stack: Stack, shots: Shots
) -> None:
    _seat(stack, "ann")
    microsoft = stack.emulators.microsoft
    microsoft.grant_admin_consent(stack.tenant_id, "casecal-microsoft")
    microsoft.auto_approve = False  # the emulator's account picker
    sign_in(page, stack.url, "ann@contoso.com")
    page.get_by_role("button", name="Microsoft 365 / Exchange").click()
    page.get_by_label("Account").fill("admin@contoso.com")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="That was not your account")).to_be_visible()
    _is_an_app_page(page, "Ann Lee")
    page.set_viewport_size(PHONE)
    _fits(page)
    shots(page, "not-your-account-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Connect again").click()
    page.get_by_label("Account").fill("ann@contoso.com")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    shots(page, "connect-again-as-ann")
