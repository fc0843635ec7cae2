"""The demo's people connecting their calendars through the real pages: CaseCal's sign-in and
Calendar Sync forms, the emulated Google consent screen and the emulated Microsoft sign-in
(with the tenant admin's consent), each followed by the callback back into CaseCal."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.demo.forms import FormBrowser
from tests.e2e.demo.harness import RunningDemo

from casecal.demo import ADMIN, MANAGERS

MARIA, PRIYA = MANAGERS[0][0], MANAGERS[2][0]
DANA = ADMIN[0]


def sign_in(browser: FormBrowser, demo: RunningDemo, email: str) -> None:
    browser.goto(f"{demo.url}/login")
    page = browser.submit("Sign in", {"email": email, "password": demo.password})
    assert page.url.path == "/calendar-sync", (page.status_code, page.url)


def connection_of(demo: RunningDemo, email: str) -> dict[str, Any]:
    listed = demo.api(email, "/connections")
    items = listed["items"] if isinstance(listed, dict) else listed
    assert len(items) == 1, items
    connection: dict[str, Any] = items[0]
    return connection


def choose_primary_calendar(browser: FormBrowser) -> None:
    """The calendar choice as offered (primary calendar, upcoming entries too), submitted."""
    assert browser.page is not None
    assert "/calendar" in browser.page.url.path, browser.page.url
    page = browser.submit("Submit")
    assert page.status_code == 200, page.text


def connect_google(browser: FormBrowser, demo: RunningDemo, email: str = PRIYA) -> None:
    """Sign in with Google: CaseCal -> Google's consent screen -> Continue -> calendar choice."""
    sign_in(browser, demo, email)
    consent = browser.submit("google")
    assert "wants access to your Google Account" in consent.text, consent.text
    choose_primary_calendar_after(browser, browser.submit("Continue"))


def choose_primary_calendar_after(browser: FormBrowser, page: Any) -> None:
    assert page.status_code == 200, page.text
    choose_primary_calendar(browser)


def microsoft_sign_in(browser: FormBrowser, email: str) -> Any:
    """The emulated Microsoft sign-in page: the account typed, Accept."""
    assert browser.page is not None
    assert "name='username'" in browser.page.text, browser.page.text
    return browser.submit("Accept", {"username": email})


def ask_microsoft_and_get_admin_consent(
    demo: RunningDemo, manager: FormBrowser, email: str = MARIA, admin: str = DANA
) -> None:
    """The tenant requires admin consent: the case manager is told so, and the firm admin (who
    administers the tenant) grants it from the consent panel, in a browser of their own."""
    sign_in(manager, demo, email)
    manager.submit("microsoft")
    asked = microsoft_sign_in(manager, email)
    assert "Approval required" in asked.text, asked.text
    assert connection_of(demo, email)["status"] == "awaiting_consent"
    with FormBrowser() as admin_browser:
        sign_in(admin_browser, demo, admin)
        admin_browser.submit("Grant consent now")
        granted = microsoft_sign_in(admin_browser, admin)
        assert "consent_recorded" in str(granted.url), (granted.url, granted.text)


def connect_microsoft_with_admin_consent(
    demo: RunningDemo, manager: FormBrowser, email: str = MARIA
) -> None:
    """... then the case manager finishes with Modify and chooses the calendar."""
    ask_microsoft_and_get_admin_consent(demo, manager, email)
    manager.goto(f"{demo.url}/calendar-sync")
    manager.submit("Modify")
    choose_primary_calendar_after(manager, microsoft_sign_in(manager, email))


def wait_for(what: str, check: Any, timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
