"""The open calendar page's redraw holds back where it must, in a real browser: nothing is
refetched while nothing changed (only the cheap check runs), a hidden tab does not ask at all
and asks at once when shown again, and a change waits while someone types in a form on the
page, then shows when they stop."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import Stack, sign_in, tomorrow_at_ten

from casecal.services.appointments import create_appointment, update_appointment
from casecal.store.tables import Role

pytestmark = pytest.mark.browser

TITLE = "Bond hearing prep"
_HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _appointment(stack: Stack) -> uuid.UUID:
    async def make(session: AsyncSession) -> uuid.UUID:
        start = tomorrow_at_ten()
        row = await create_appointment(
            session,
            stack.actor("ann", Role.CASE_MANAGER),
            {"title": TITLE, "start_at": start, "end_at": start + timedelta(hours=1)},
        )
        return row.id

    found: uuid.UUID = stack.run(make)
    return found


def _retitle(stack: Stack, entry_id: uuid.UUID, title: str) -> None:
    async def change(session: AsyncSession) -> None:
        await update_appointment(
            session, stack.actor("ann", Role.CASE_MANAGER), entry_id, {"title": title}
        )
        await session.commit()

    stack.run(change)


def _watch(page: Page) -> list[str]:
    """The paths of the page's fetches from now on (the check, and refetches of the page)."""
    seen: list[str] = []

    def note(request: Request) -> None:
        if request.resource_type == "fetch":
            seen.append(urlparse(request.url).path)

    page.on("request", note)
    return seen


def test_the_redraw_holds_back_when_unchanged_hidden_or_typing(page: Page, stack: Stack) -> None:
    entry_id = _appointment(stack)
    sign_in(page, stack.url, "ann@contoso.com")
    page.goto(f"{stack.url}/calendar")
    region = page.locator("#calendar-region")
    expect(region).to_contain_text(TITLE)

    fetched = _watch(page)
    page.wait_for_timeout(5000)
    assert fetched.count("/calendar/changes") >= 2, fetched  # it keeps checking ...
    assert "/calendar" not in fetched, fetched  # ... and never refetches an unchanged page

    page.evaluate(_HIDE, True)
    fetched.clear()
    page.wait_for_timeout(5000)
    assert fetched == [], fetched  # a hidden tab asks nothing
    page.evaluate(_HIDE, False)
    page.wait_for_timeout(500)
    assert fetched == ["/calendar/changes"], fetched  # shown again: asks at once

    page.evaluate("""() => {
      const form = document.createElement("form");
      form.innerHTML = '<label>Note <input id="typing" name="note"></label>';
      document.querySelector("main").prepend(form);
    }""")
    typing = page.locator("#typing")
    typing.fill("half a sent")
    _retitle(stack, entry_id, "Bond hearing prep (room 5)")
    page.wait_for_timeout(5000)
    expect(region).not_to_contain_text("room 5")  # not while a field of a form has focus
    expect(typing).to_have_value("half a sent")
    expect(typing).to_be_focused()
    started = time.monotonic()
    page.evaluate("document.activeElement.blur()")
    expect(region).to_contain_text("Bond hearing prep (room 5)", timeout=5000)
    assert time.monotonic() - started <= 5
    expect(typing).to_have_value("half a sent")  # outside the region: kept as typed
    expect(page.locator("#calendar-updated")).to_have_text("Updated just now")


def test_the_check_backs_off_while_it_fails(page: Page, stack: Stack) -> None:
    """Every 2 s while answered; failing, the wait doubles (2, 4, 8 s ...), so a server in
    trouble is not asked every 2 s by every open page."""
    sign_in(page, stack.url, "ann@contoso.com")
    page.goto(f"{stack.url}/calendar")
    expect(page.locator("#calendar-region")).to_be_visible()
    page.route("**/calendar/changes*", lambda route: route.fulfill(status=503, body="busy"))
    fetched = _watch(page)
    page.wait_for_timeout(13_000)
    assert 2 <= fetched.count("/calendar/changes") <= 3, fetched  # ~2, ~6, ~14 s: not 6 times
