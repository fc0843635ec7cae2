"""In a real browser: the firm admin configures single sign-on with an OpenID Connect provider
that no one in this project wrote (``oidc-provider-mock``, on loopback), and a new case manager
signs in through it by typing their work address, is provisioned and lands on Calendar Sync."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tests.e2e.browser.harness import STEP_TIMEOUT_MS, Shots, Stack, sign_in, sign_out

pytestmark = pytest.mark.browser

PROVIDER = Path(__file__).resolve().parents[2] / "integration" / "sso" / "independent_idp.py"
PEOPLE = {"nina": {"email": "nina@okta-firm.test", "email_verified": True,
                   "name": "Nina Newcomer"}}  # fmt: skip


@pytest.fixture
def issuer() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(PROVIDER), json.dumps(PEOPLE)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _offline(route: Route) -> None:
    route.abort()  # the provider's page links a stylesheet on a CDN; the tests stay offline


def test_admin_configures_oidc_sso_and_a_newcomer_signs_in_through_it(
    browser: Browser, page: Page, stack: Stack, shots: Shots, issuer: str
) -> None:
    sign_in(page, stack.url, "admin@contoso.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Single sign-on").click()
    expect(page.get_by_role("heading", name="Single sign-on", exact=True)).to_be_visible()
    expect(page.locator("#sso-redirect-uri")).to_have_text(f"{stack.url}/sso/callback")
    # the OpenID Connect form (the page has a SAML form with fields of the same names too)
    oidc = page.get_by_role("region", name="Your firm's identity provider")
    oidc.get_by_label("Another OpenID Connect provider").check()
    oidc.get_by_label("Issuer URL").fill(issuer)
    oidc.get_by_label("Client id").fill("casecal-sso")
    oidc.get_by_label("Client secret").fill("a client secret")
    oidc.get_by_label("Your firm's email domains").fill("okta-firm.test")
    oidc.get_by_label("Single sign-on is on").check()
    oidc.get_by_label("Create an account (case manager)").check()
    shots(page, "admin-configures-sso")
    oidc.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_role("status")).to_have_text("Single sign-on saved.")
    expect(oidc.get_by_label("Client secret (stored; leave empty to keep it)")).to_be_empty()
    shots(page, "sso-saved")
    sign_out(page)

    nina = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    nina.set_default_timeout(STEP_TIMEOUT_MS)
    nina.route(re.compile(r"https://cdn\.jsdelivr\.net/.*"), _offline)
    nina.goto(f"{stack.url}/login")
    nina.get_by_label("Your work address").fill("nina@okta-firm.test")
    shots(nina, "sign-in-with-firm-account")
    nina.get_by_role("button", name="Continue with your firm's account").click()
    nina.wait_for_url(re.compile(re.escape(issuer) + r"/oauth2/authorize.*"))
    nina.get_by_placeholder("sub").fill("nina")
    shots(nina, "at-the-identity-provider")
    nina.get_by_role("button", name="Authorize").click()
    nina.wait_for_url(re.compile(r".*/calendar-sync.*"))
    expect(nina.get_by_text("Nina Newcomer")).to_be_visible()
    expect(nina.get_by_text("nina@okta-firm.test")).to_be_visible()
    shots(nina, "provisioned-on-calendar-sync")
    nina.context.close()
