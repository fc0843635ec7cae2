"""The newcomer's last walk-through, in a real browser: a notice shows once and a reload does
not bring it back; the "Approval required" page shows the consent link once (wrapped, with
Copy); back on Calendar Sync while consent is awaited, Request approval is still offered."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import Shots, Stack, sign_in

from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import Role

pytestmark = pytest.mark.browser


def _seat(stack: Stack, who: str) -> None:
    async def seat(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people[who])

    stack.run(seat)


def test_a_notice_does_not_come_back_on_reload(page: Page, stack: Stack, shots: Shots) -> None:
    sign_in(page, stack.url, "ann@contoso.com")
    page.goto(f"{stack.url}/calendar-sync?done=synced&flash=cancelled")
    notice = page.locator(".notice")
    expect(notice).to_have_text("Sync finished.")
    shots(page, "notice-shown-once")
    page.wait_for_function("() => window.location.search === ''")
    assert page.url == f"{stack.url}/calendar-sync"
    page.reload()
    expect(page.get_by_role("heading", name="Calendar Sync", exact=True)).to_be_visible()
    expect(notice).to_have_count(0)
    page.goto(f"{stack.url}/calendar?week=2026-03-10&done=entry-deleted")
    expect(notice).to_contain_text("The entry is deleted")
    page.wait_for_function("() => window.location.search === '?week=2026-03-10'")
    page.reload()
    expect(page.get_by_role("heading", name="Week of March 9, 2026")).to_be_visible()
    expect(notice).to_have_count(0)


def test_the_consent_link_shows_once_and_request_approval_stays_reachable(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    _seat(stack, "ann")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    sign_in(page, stack.url, "ann@contoso.com")
    page.get_by_role("button", name="Microsoft 365 / Exchange").click()
    expect(page.get_by_role("heading", name="Approval required")).to_be_visible()
    link = page.locator(".long-link")
    expect(link).to_contain_text(f"/{stack.tenant_id}/v2.0/adminconsent")
    url = (link.text_content() or "").strip()
    body = page.locator("main").inner_text()
    assert body.count(url) == 1, body  # once, not in a box and again below it
    assert page.locator(f'input[value="{url}"]').count() == 0
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    shots(page, "approval-required-shows-the-link-once")

    page.get_by_role("link", name="Back to Calendar Sync").click()
    expect(page.locator("#connection-state")).to_have_text("Awaiting admin consent")
    page.get_by_role("button", name="Request approval").click()
    page.wait_for_url(re.compile(r".*/calendar-sync(\?done=approval-requested)?$"))
    expect(page.get_by_role("status")).to_contain_text("Your firm admins were asked")
    shots(page, "request-approval-from-calendar-sync")
