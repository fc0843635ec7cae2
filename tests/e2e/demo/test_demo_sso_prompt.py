"""``casecal demo`` as installed has a second firm that signs in through the emulated Entra ID:
a newcomer follows the printed instructions (their address under "Sign in with your firm's
account", Accept on the emulated Microsoft sign-in), gets an account and a seat, and is taken
straight to "Connect Microsoft 365"; connecting finishes on Calendar Sync with the calendar
active. Another newcomer answers "Not now" and lands on Calendar Sync with the reason."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from tests.e2e.demo.flows import choose_primary_calendar_after, microsoft_sign_in, wait_for
from tests.e2e.demo.forms import FormBrowser
from tests.e2e.demo.harness import RunningDemo

PRINTED_SIGN_IN = re.compile(
    r"Open (\S+)/login; under \"Sign in with your firm's account\" type\s+(\S+@\S+) and"
)
PRINTED_NOT_NOW = re.compile(r"Or sign in as (\S+@\S+) and answer \"Not now\"")


def _sso_sign_in(browser: FormBrowser, demo: RunningDemo, email: str) -> None:
    """The login page's "Continue with your firm's account", then the emulated Microsoft
    sign-in page (the demo's emulators ask who signs in, as the real one does)."""
    browser.goto(f"{demo.url}/login")
    browser.submit("Continue with your firm's account", {"email": email})
    microsoft_sign_in(browser, email)


def test_a_newcomer_signs_in_through_the_demo_sso_firm_and_is_asked_to_connect(
    demo: RunningDemo, new_browser: Callable[[], FormBrowser]
) -> None:
    printed = demo.printed()
    found = PRINTED_SIGN_IN.search(printed)
    assert found, printed
    assert found.group(1) == demo.url
    newcomer = found.group(2)

    sam = new_browser()
    _sso_sign_in(sam, demo, newcomer)
    assert sam.page is not None
    assert sam.page.url.path == "/calendar-sync/connect-prompt", (sam.page.url, sam.page.text)
    assert "<h1>Connect Microsoft 365</h1>" in sam.page.text
    assert "Sam Reyes" in sam.page.text
    sam.submit("Connect Microsoft 365")
    choose_primary_calendar_after(sam, microsoft_sign_in(sam, newcomer))

    def after_the_first_pass() -> str | None:  # the first pass runs on its own
        page = sam.goto(f"{demo.url}/calendar-sync").text
        return page if re.search(r'id="connection-state">\s*Active', page) else None

    shown = wait_for("Sam's first pass", after_the_first_pass, timeout=60)
    assert "Last sync</dt><dd>never" not in shown

    not_now = PRINTED_NOT_NOW.search(printed)
    assert not_now, printed
    lee = new_browser()
    _sso_sign_in(lee, demo, not_now.group(1))
    assert lee.page is not None
    assert lee.page.url.path == "/calendar-sync/connect-prompt"
    landed = lee.submit("Not now")
    assert landed.url.path == "/calendar-sync", landed.url
    assert "Not now: CaseCal will not ask you to connect your calendar" in html.unescape(
        landed.text
    )
    assert "Connect your calendar" in landed.text
