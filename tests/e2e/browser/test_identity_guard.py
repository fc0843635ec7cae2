"""The identity guard in a real browser: in Ann's CaseCal session, the firm admin signs in to
Microsoft with their own account. Nothing is connected and the page says whose calendar that
was and what to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import Shots, Stack, sign_in

from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import Role

pytestmark = pytest.mark.browser


def test_admin_signing_in_for_a_case_manager_connects_nothing(
    page: Page, stack: Stack, shots: Shots
) -> None:
    async def seat_ann(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people["ann"])

    stack.run(seat_ann)
    microsoft = stack.emulators.microsoft
    microsoft.grant_admin_consent(stack.tenant_id, "casecal-microsoft")
    microsoft.auto_approve = False  # show the emulator's account picker
    sign_in(page, stack.url, "ann@contoso.com")
    page.get_by_role("button", name="Microsoft 365 / Exchange").click()
    page.get_by_label("Account").fill("admin@contoso.com")
    shots(page, "provider-sign-in-as-admin")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="That was not your account")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Ada Admin's Microsoft account (admin@contoso.com)")
    expect(alert).to_contain_text("nothing was connected")
    shots(page, "identity-mismatch-explained")
    page.goto(f"{stack.url}/calendar-sync")
    expect(page.get_by_role("button", name="Microsoft 365 / Exchange")).to_be_visible()
    expect(page.locator("#connection-state")).to_have_count(0)
    shots(page, "still-not-connected")
