"""The API explorer without internet: ``/api/docs`` renders the operations list from files
CaseCal serves itself. Every request that leaves CaseCal's origin is refused (as on a machine
offline) and recorded; none may be made, and the page's CSP must not block anything."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect
from tests.e2e.browser.harness import Shots, Stack

pytestmark = pytest.mark.browser


def test_api_docs_render_offline(page: Page, stack: Stack, shots: Shots) -> None:
    elsewhere: list[str] = []
    problems: list[str] = []

    def offline(route: Route) -> None:
        url = route.request.url
        if url.startswith(stack.url + "/") or url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.route("**/*", offline)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{stack.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CaseCal")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/cases']").first).to_be_visible()
    assert operations.count() > 20
    shots(page, "operations-listed")
    page.locator(".opblock-summary-path[data-path='/api/v1/cases']").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert elsewhere == []
    assert problems == []
