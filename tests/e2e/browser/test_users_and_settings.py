"""In a real browser: the firm admin adds a case manager from Setup > Users with "set later",
the newcomer sets a password with the one-time link, signs in and picks their time zone in
Your settings."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.e2e.browser.harness import STEP_TIMEOUT_MS, Shots, Stack, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_admin_adds_a_user_who_sets_a_password_and_a_zone(
    browser: Browser, page: Page, stack: Stack, shots: Shots
) -> None:
    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Add a user")).to_be_visible()
    expect(page.get_by_label("Role")).to_have_value("case_manager")
    page.get_by_label("Name").fill("Cora Newcomer")
    page.get_by_label("Email").fill("cora@contoso.com")
    shots(page, "admin-adds-a-user")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_have_text("Cora Newcomer was added as case manager.")
    link = page.locator("#set-password-link").input_value()
    assert "/set-password?token=" in link
    shots(page, "one-time-link")
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("Sync")).click()
    expect(page.get_by_role("button", name="Subscribe to Calendar Sync")).to_be_visible()
    case_managers = page.get_by_role("table", name=re.compile("Case managers"))
    expect(case_managers).to_contain_text("Cora Newcomer")
    sign_out(page)

    cora = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    cora.set_default_timeout(STEP_TIMEOUT_MS)
    cora.goto(link)
    expect(cora.get_by_text("Hello Cora Newcomer (cora@contoso.com)")).to_be_visible()
    cora.get_by_label("New password").fill("cora's own password")
    cora.get_by_role("button", name="Set password").click()
    expect(cora.get_by_role("status")).to_have_text("Your password is set. Sign in with it.")
    cora.get_by_label("Email").fill("cora@contoso.com")
    cora.get_by_label("Password").fill("cora's own password")
    cora.get_by_role("button", name="Sign in").click()
    cora.wait_for_url(re.compile(r".*/calendar-sync.*"))
    cora.get_by_role("link", name="Your settings").click()
    cora.get_by_label("Your time zone").select_option("Europe/Berlin")
    cora.get_by_role("region", name="Time zone").get_by_role("button", name="Save").click()
    expect(cora.get_by_role("status")).to_have_text("Your settings are saved.")
    expect(cora.locator("#now-here")).to_contain_text(re.compile(r"CES?T"))
    shots(cora, "settings-zone")
    cora.context.close()
