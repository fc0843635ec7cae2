"""Setup > Single sign-on: a firm admin configures the identity provider through the page
(CSRF-checked, audited, the client secret stored only encrypted and kept when left empty);
a case manager cannot; a domain leads to one firm only; requiring SSO needs a break-glass admin."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy import select, text
from sso_world import PASSWORD, SsoWorld

from casecal.auth.encryption import TokenCipher
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.sso import SsoInput, SsoSettingRejected, save_config
from casecal.store.sso_tables import SsoConfig
from casecal.store.tables import AuditEvent, Role

PAGE = "/single-sign-on"


async def _signed_in(world: SsoWorld, email: str) -> tuple[httpx.AsyncClient, str]:
    browser = world.browser()
    await browser.get("/login")
    csrf = browser.cookies.get("casecal_login_csrf", "")
    done = await browser.post("/login", data={"email": email, "password": PASSWORD,
                                              "csrf_token": csrf})  # fmt: skip
    assert done.status_code == 303, done.text
    page = await browser.get(PAGE)
    marker = 'name="csrf_token" value="'
    start = page.text.find(marker)
    token = page.text[start + len(marker) :].split('"', 1)[0] if start >= 0 else ""
    return browser, token


def _form(world: SsoWorld, csrf: str, **change: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "kind": "oidc",
        "issuer": world.issuer,
        "client_id": "sso-oidc",
        "client_secret": "s3cret-value",
        "domains": "okta-firm.test",
        "enabled": "on",
        "allow_provisioning": "on",
        "group_claim": "groups",
    } | change


async def test_the_admin_configures_sso_and_it_is_audited_with_the_secret_encrypted(
    sso_world: SsoWorld,
) -> None:
    browser, csrf = await _signed_in(sso_world, "ada@firm.test")
    page = await browser.get(PAGE)
    assert page.status_code == 200
    assert "http://testserver/sso/callback" in page.text
    saved = await browser.post(PAGE, data=_form(sso_world, csrf))
    assert saved.status_code == 303, saved.text
    shown = await browser.get(saved.headers["location"])
    assert "Single sign-on saved." in shown.text
    assert "s3cret-value" not in shown.text
    assert "stored; leave empty to keep it" in shown.text
    async with sso_world.app.state.sessionmaker() as session:
        config = await session.get(SsoConfig, sso_world.firm_id)
        assert config is not None
        cipher = TokenCipher.from_settings(sso_world.settings)
        assert cipher.decrypt(config.client_secret_enc) == "s3cret-value"
        dump = repr((await session.execute(text("SELECT * FROM sso_configs"))).all())
        [event] = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.configured"))
        ).all()
    assert "s3cret-value" not in dump
    assert "s3cret-value" not in repr(event.details)
    assert event.actor_user_id == sso_world.admin.id
    assert event.details["kind"] == "oidc"
    kept = await browser.post(PAGE, data=_form(sso_world, csrf, client_secret=""))
    assert kept.status_code == 303
    done = await sso_world.sign_in("olga@okta-firm.test", sub="olga")
    assert done.status_code == 303, done.text  # the kept secret still works


async def test_saving_needs_the_csrf_token(sso_world: SsoWorld) -> None:
    browser, _ = await _signed_in(sso_world, "ada@firm.test")
    refused = await browser.post(PAGE, data=_form(sso_world, "wrong"))
    assert refused.status_code == 403
    async with sso_world.app.state.sessionmaker() as session:
        assert await session.get(SsoConfig, sso_world.firm_id) is None


async def test_a_case_manager_cannot_configure_sso(sso_world: SsoWorld) -> None:
    browser, csrf = await _signed_in(sso_world, "cara@okta-firm.test")
    assert (await browser.get(PAGE)).status_code == 403
    refused = await browser.post(PAGE, data=_form(sso_world, csrf))
    assert refused.status_code == 403
    async with sso_world.app.state.sessionmaker() as session:
        assert await session.get(SsoConfig, sso_world.firm_id) is None


async def test_a_domain_leads_to_one_firm_and_require_sso_names_a_break_glass_admin(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("google")
    async with sso_world.app.state.sessionmaker() as session:
        rival = await create_firm(session, name="Rival", admin_email="r@rival.test",
                                  admin_name="R")  # fmt: skip
        rival_admin = Actor(rival.admin_user_id, rival.firm_id, Role.FIRM_ADMIN)
        given = SsoInput("google", client_id="x", client_secret="y", domains="firm.test")
        with pytest.raises(SsoSettingRejected, match=r"firm\.test already leads to another firm"):
            await save_config(session, sso_world.settings, rival_admin, given)
    browser, csrf = await _signed_in(sso_world, "ada@firm.test")
    no_break_glass = await browser.post(PAGE, data=_form(sso_world, csrf, require_sso="on"))
    assert no_break_glass.status_code == 422
    assert "name a break-glass admin" in html.unescape(no_break_glass.text)
    not_admin = await browser.post(
        PAGE,
        data=_form(sso_world, csrf, require_sso="on", break_glass_email="cara@okta-firm.test"),
    )
    assert not_admin.status_code == 422
    assert "is not an active firm admin" in not_admin.text
    bad_tenant = await browser.post(PAGE, data=_form(sso_world, csrf, kind="entra",
                                                     tenants="not-a-guid"))  # fmt: skip
    assert bad_tenant.status_code == 422
    assert "is not a tenant id" in html.unescape(bad_tenant.text)
    plain_http = await browser.post(PAGE, data=_form(sso_world, csrf,
                                                     issuer="http://idp.example.com"))  # fmt: skip
    assert plain_http.status_code == 422
    assert "https://" in plain_http.text
