"""In a real browser: the firm admin configures single sign-on through the emulated Entra ID,
turns the connect prompt on and locks it for the whole firm (and seats the people single
sign-on creates); a new case manager signs in with their firm account, is provisioned, is taken
straight to "Connect Microsoft 365", connects, and the first sync puts a court date in the
emulated Outlook calendar; a second newcomer answers "Not now" and lands on Calendar Sync with
the reason, free to connect by hand. A screenshot per step in test-output/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import (
    STEP_TIMEOUT_MS,
    Shots,
    Stack,
    sign_in,
    sign_out,
    tomorrow_at_ten,
)

from casecal.services.case_entries import create_case_entry
from casecal.services.cases import create_case
from casecal.store.tables import CourtDate, Role, User

pytestmark = pytest.mark.browser

SSO_APP = ("casecal-sso", "entra-sso-secret")
NORA, OMAR = "nora@contoso.com", "omar@contoso.com"


def _set_firm_value(page: Page, key: str, value: str, *, lock: bool = False) -> None:
    row = page.locator(f"#setting-{key.replace('.', '-')}")
    row.get_by_label(re.compile("New value")).select_option(value)
    if lock:
        row.get_by_label(re.compile("Lock it")).check()
    row.get_by_role("button", name=re.compile("^Save")).click()
    expect(row.locator(".setting-value")).to_have_text("Yes" if value == "true" else "No")


def _newcomer(browser: Browser, stack: Stack, email: str, shots: Shots, step: str) -> Page:
    """A new person's own browser, signed in through the firm's account."""
    person = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    person.set_default_timeout(STEP_TIMEOUT_MS)
    person.goto(f"{stack.url}/login")
    person.get_by_label("Your work address").fill(email)
    shots(person, step)
    person.get_by_role("button", name="Continue with your firm's account").click()
    return person


def test_admin_turns_the_connect_prompt_on_and_newcomers_connect_or_say_not_now(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    microsoft = stack.emulators.microsoft
    microsoft.register_app(*SSO_APP, [f"{stack.url}/sso/callback"])
    for client_id in (SSO_APP[0], "casecal-microsoft"):  # the tenant's IT approved both apps
        microsoft.grant_admin_consent(stack.tenant_id, client_id)
    nora_oid = microsoft.add_user(stack.tenant_id, NORA, "Nora North")
    microsoft.add_user(stack.tenant_id, OMAR, "Omar Oak")

    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#subscription-status")).to_have_text("Active")
    page.goto(f"{stack.url}/single-sign-on")
    entra = page.get_by_role("region", name="Your firm's identity provider")
    entra.get_by_label("Microsoft Entra ID").check()
    entra.get_by_label(re.compile("Entra ID tenant ids")).fill(stack.tenant_id)
    entra.get_by_label("Client id").fill(SSO_APP[0])
    entra.get_by_label("Client secret").fill(SSO_APP[1])
    entra.get_by_label(re.compile("Your firm's email domains")).fill("contoso.com")
    entra.get_by_label("Single sign-on is on").check()
    entra.get_by_label(re.compile(r"Create an account \(case manager\)")).check()
    shots(page, "admin-configures-entra-sso")
    entra.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_role("status")).to_have_text("Single sign-on saved.")

    page.goto(f"{stack.url}/firm-settings")
    _set_firm_value(page, "sso.ask_to_connect", "true", lock=True)
    prompt_row = page.locator("#setting-sso-ask_to_connect")
    expect(prompt_row.locator("[data-lock]")).to_contain_text("Locked")
    _set_firm_value(page, "sso.seat_at_provisioning", "true")
    prompt_row.scroll_into_view_if_needed()
    shots(page, "admin-turns-the-prompt-on-and-locks-it")
    sign_out(page)

    nora = _newcomer(browser, stack, NORA, shots, "nora-signs-in-with-her-firm-account")
    nora.wait_for_url(re.compile(r".*/calendar-sync/connect-prompt$"))
    expect(nora.get_by_role("heading", name="Connect Microsoft 365", exact=True)).to_be_visible()
    expect(nora.get_by_text("Nora North")).to_be_visible()
    expect(nora.get_by_role("button", name="Not now")).to_be_visible()
    shots(nora, "nora-is-asked-to-connect-microsoft-365")
    nora.get_by_role("button", name="Connect Microsoft 365").click()
    expect(nora.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    shots(nora, "nora-chooses-her-calendar")
    nora.get_by_role("button", name="Submit").click()
    expect(nora.locator("#connection-state")).to_have_text("Active")
    shots(nora, "nora-connected")

    async def court_date(session: AsyncSession) -> None:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        user = await session.scalar(
            select(User.id).where(User.email == NORA, User.firm_id == stack.firm_id)
        )
        assert user is not None
        case = await create_case(session, admin, {"number": "SSO-1", "beneficiary": "Ana Diaz",
                                                  "manager_ids": [user]})  # fmt: skip
        entry = {"case_id": case.id, "hearing_type": "Master calendar hearing",
                 "start_at": tomorrow_at_ten()}  # fmt: skip
        await create_case_entry(session, admin, CourtDate, entry)

    stack.run(court_date)
    nora.get_by_role("button", name="Sync now").click()
    expect(nora.get_by_text("Sync finished.")).to_be_visible()
    shots(nora, "nora-first-sync")
    subjects = [e["subject"] for e in microsoft.events(nora_oid)]
    assert any("Master calendar hearing" in s for s in subjects), subjects
    nora.context.close()

    omar = _newcomer(browser, stack, OMAR, shots, "omar-signs-in-with-his-firm-account")
    omar.wait_for_url(re.compile(r".*/calendar-sync/connect-prompt$"))
    expect(omar.get_by_role("heading", name="Connect Microsoft 365", exact=True)).to_be_visible()
    shots(omar, "omar-is-asked-to-connect")
    omar.get_by_role("button", name="Not now").click()
    omar.wait_for_url(re.compile(r".*/calendar-sync\?prompt=.*"))
    expect(omar.get_by_role("status")).to_contain_text("Not now: CaseCal will not ask you")
    expect(omar.get_by_role("status")).to_contain_text("next 7 days")
    expect(omar.get_by_role("heading", name="Connect your calendar")).to_be_visible()
    expect(omar.get_by_role("button", name="Microsoft 365 / Exchange")).to_be_visible()
    shots(omar, "omar-on-calendar-sync-after-not-now")
    omar.context.close()
