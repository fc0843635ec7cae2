"""In a real browser: the firm admin configures SAML 2.0 sign-in by pasting the metadata of a
SAML identity provider (made with pysaml2, its own signing key, served on loopback), and a new
case manager signs in through it from the sign-in page's "Sign in with your firm's account"
(the address's domain leads to the IdP), is provisioned and lands on Calendar Sync."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.e2e.browser.harness import (
    STEP_TIMEOUT_MS,
    Shots,
    Stack,
    loopback_socket,
    serve,
    sign_out,
)
from tests.e2e.browser.harness import sign_in as password_sign_in
from tests.integration.sso.saml_idp import SamlIdp

pytestmark = pytest.mark.browser

NEWCOMER = ("nina@contoso.com", "Nina Newcomer")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[SamlIdp]:
    sock, url = loopback_socket()
    made = SamlIdp(tmp_path / "idp", entity_id=f"{url}/metadata", sso_url=f"{url}/sso")
    with sock, serve(made.asgi_app(*NEWCOMER), sock):
        yield made


def test_admin_configures_saml_and_a_newcomer_signs_in_through_it(
    browser: Browser, stack: Stack, shots: Shots, idp: SamlIdp
) -> None:
    admin = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    admin.set_default_timeout(STEP_TIMEOUT_MS)
    password_sign_in(admin, stack.url, "admin@contoso.com")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Single sign-on").click()
    saml = admin.locator("section[aria-labelledby=sso-saml]")
    expect(saml.locator("#saml-sp-entity-id")).to_have_text(
        f"{stack.url}/sso/saml/{stack.firm_id}/metadata"
    )
    expect(saml.locator("#saml-acs-url")).to_have_text(f"{stack.url}/sso/saml/{stack.firm_id}/acs")
    saml.get_by_label("Or its metadata XML").fill(idp.metadata())
    saml.get_by_label("Your firm's email domains").fill("contoso.com")
    saml.get_by_label("Single sign-on is on").check()
    saml.get_by_label("Create an account (case manager)").check()
    saml.scroll_into_view_if_needed()
    shots(admin, "admin-configures-saml")
    saml.get_by_role("button", name="Save SAML sign-in").click()
    expect(admin.get_by_role("status")).to_have_text("Single sign-on saved.")
    expect(admin.locator("#saml-current")).to_contain_text(idp.entity_id)
    admin.locator("#saml-current").scroll_into_view_if_needed()
    shots(admin, "saml-saved")
    sign_out(admin)
    admin.context.close()

    nina = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    nina.set_default_timeout(STEP_TIMEOUT_MS)
    nina.goto(f"{stack.url}/login")
    nina.get_by_label("Your work address").fill(NEWCOMER[0])
    shots(nina, "sign-in-with-firm-account")
    nina.get_by_role("button", name="Continue with your firm's account").click()
    nina.wait_for_url(re.compile(re.escape(idp.sso_url) + r"\?SAMLRequest=.*"))
    expect(nina.get_by_text(f"Signing in {NEWCOMER[1]}")).to_be_visible()
    shots(nina, "at-the-saml-identity-provider")
    nina.get_by_role("button", name="Continue to CaseCal").click()
    nina.wait_for_url(re.compile(r".*/calendar-sync.*"))
    expect(nina.get_by_text(NEWCOMER[1])).to_be_visible()
    expect(nina.get_by_text(NEWCOMER[0])).to_be_visible()
    shots(nina, "provisioned-on-calendar-sync")
    nina.context.close()
