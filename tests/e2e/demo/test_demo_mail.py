"""Issue 10, item 11: the demo's mail is visible. CaseCal's demo settings send through the
mail catcher the emulators process runs, and its /mail page lists what was sent: here the
"your calendar can now be connected" notice Maria gets when the tenant's admin consents, whose
one-click link then takes her on to Microsoft's sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from tests.e2e.demo.flows import MARIA, ask_microsoft_and_get_admin_consent, wait_for
from tests.e2e.demo.forms import FormBrowser
from tests.e2e.demo.harness import RunningDemo

SUBJECT = "CaseCal: your calendar can now be connected"


def test_the_consent_notice_arrives_on_the_mail_page(
    demo: RunningDemo, new_browser: Callable[[], FormBrowser]
) -> None:
    assert f"Mail      {demo.mail_url}" in demo.printed()
    empty = httpx.get(demo.mail_url, timeout=5)
    assert empty.status_code == 200
    assert "No mail yet" in empty.text

    maria = new_browser()
    ask_microsoft_and_get_admin_consent(demo, maria, MARIA)

    def mail_page_with_the_notice() -> str | None:
        text = httpx.get(demo.mail_url, timeout=5).text
        return text if SUBJECT in text else None

    page = wait_for("the consent notice on /mail", mail_page_with_the_notice)
    assert f"To <b>{MARIA}</b>" in page
    link = re.search(r'<a href="([^"]+/calendar-sync/connect/microsoft\?modify=[^"]+)">', page)
    assert link, page
    assert link.group(1).startswith(demo.url)

    follow = maria.goto(link.group(1).replace("&amp;", "&"))
    assert follow.url.path.startswith("/microsoft/"), follow.url  # on to the provider's sign-in
    assert "name='username'" in follow.text
