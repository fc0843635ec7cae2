"""Setup > Single sign-on, the SAML part: the page shows what to give the IdP (entity id, ACS,
metadata URL); a firm admin saves the IdP by pasted metadata XML or by its metadata URL
(CSRF-checked, audited); metadata that is not usable, a domain of another firm, or require-SSO
without a break-glass admin are refused with the reason; a case manager cannot."""

from __future__ import annotations

import html
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from saml_world import DOMAIN, PASSWORD, SamlWorld, make_world
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.saml import SamlInput, save_saml_config
from casecal.services.sso import SsoSettingRejected
from casecal.store.saml_tables import SamlConfig
from casecal.store.sso_tables import SsoConfig

PAGE = "/single-sign-on"
SAVE = "/single-sign-on/saml"


@pytest.fixture
async def world(app: FastAPI, app_settings: Settings, tmp_path: Path) -> SamlWorld:
    return await make_world(app, app_settings, tmp_path)


async def _signed_in(world: SamlWorld, email: str) -> tuple[httpx.AsyncClient, str]:
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


def _form(world: SamlWorld, csrf: str, **change: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "metadata_xml": world.idp.metadata(),
        "domains": DOMAIN,
        "enabled": "on",
        "allow_provisioning": "on",
    } | change


async def test_the_admin_pastes_the_idp_metadata_and_it_is_saved_and_audited(
    world: SamlWorld,
) -> None:
    browser, csrf = await _signed_in(world, f"ada@{DOMAIN}")
    page = await browser.get(PAGE)
    assert page.status_code == 200
    sp = f"http://testserver/sso/saml/{world.firm_id}"
    assert f'<code id="saml-sp-entity-id">{sp}/metadata</code>' in page.text
    assert f'<code id="saml-acs-url">{sp}/acs</code>' in page.text
    saved = await browser.post(SAVE, data=_form(world, csrf))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == PAGE + "?done=sso-saved"
    async with world.app.state.sessionmaker() as session:
        config = await session.get(SsoConfig, world.firm_id)
        saml = await session.get(SamlConfig, world.firm_id)
    assert config is not None
    assert (config.kind, config.enabled, config.allow_provisioning, config.issuer) == (
        "saml", True, True, world.idp.entity_id,
    )  # fmt: skip
    assert saml is not None
    assert saml.idp_entity_id == world.idp.entity_id
    shown = html.unescape((await browser.get(PAGE)).text)
    assert f"Your firm signs in with SAML 2.0 (identity provider {world.idp.entity_id})" in (
        shown.replace("<code>", "").replace("</code>", "")
    )
    audit = await world.audit("sso.configured")
    assert audit[-1]["kind"] == "saml"
    assert audit[-1]["idp_entity_id"] == world.idp.entity_id
    assert audit[-1]["domains"] == [DOMAIN]
    done = await world.sign_in(f"cara@{DOMAIN}")
    assert done.status_code == 303  # the page's configuration signs people in


async def test_the_admin_gives_the_metadata_url_and_casecal_reads_it(world: SamlWorld) -> None:
    metadata = world.idp.metadata()

    async def serve(_: Request) -> Response:
        return Response(metadata, media_type="application/samlmetadata+xml")

    idp_site = Starlette(routes=[Route("/federationmetadata.xml", serve)])
    world.app.state.http = httpx.AsyncClient(
        mounts={"https://idp.saml-firm.test": httpx.ASGITransport(app=idp_site)}
    )
    url = "https://idp.saml-firm.test/federationmetadata.xml"
    browser, csrf = await _signed_in(world, f"ada@{DOMAIN}")
    saved = await browser.post(SAVE, data=_form(world, csrf, metadata_xml="", metadata_url=url))
    assert saved.status_code == 303, saved.text
    async with world.app.state.sessionmaker() as session:
        saml = await session.get(SamlConfig, world.firm_id)
    assert saml is not None
    assert (saml.metadata_url, saml.idp_entity_id) == (url, world.idp.entity_id)
    missing = await browser.post(
        SAVE, data=_form(world, csrf, metadata_xml="",
                         metadata_url="https://idp.saml-firm.test/nothing-here"),
    )  # fmt: skip
    assert missing.status_code == 422
    assert "The metadata URL answered HTTP 404" in missing.text
    plain = await browser.post(
        SAVE, data=_form(world, csrf, metadata_xml="", metadata_url="http://idp.example/md")
    )
    assert plain.status_code == 422
    assert "must be an https:// URL" in plain.text


BAD_METADATA = [
    ("empty", "", "give the identity provider"),
    ("not XML", "this is not xml", "not valid SAML 2.0 metadata"),
    ("XML bomb", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
     '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&b;"/>',
     "not valid SAML 2.0 metadata"),
    ("an SP, not an IdP", "SP", "exactly one identity provider"),
]  # fmt: skip


@pytest.mark.parametrize(("xml", "why"), [b[1:] for b in BAD_METADATA],
                         ids=[b[0] for b in BAD_METADATA])  # fmt: skip
async def test_metadata_that_cannot_be_used_is_refused_with_the_reason(
    world: SamlWorld, xml: str, why: str
) -> None:
    browser, csrf = await _signed_in(world, f"ada@{DOMAIN}")
    if xml == "SP":  # CaseCal's own SP metadata: no IdP in it
        xml = (await browser.get(f"/sso/saml/{world.firm_id}/metadata")).text
    refused = await browser.post(SAVE, data=_form(world, csrf, metadata_xml=xml))
    assert refused.status_code == 422
    assert why in html.unescape(refused.text)
    assert 'id="saml-error"' in refused.text
    async with world.app.state.sessionmaker() as session:
        assert await session.get(SamlConfig, world.firm_id) is None


async def test_the_form_needs_its_csrf_token_and_an_admin(world: SamlWorld) -> None:
    browser, csrf = await _signed_in(world, f"ada@{DOMAIN}")
    forged = await browser.post(SAVE, data=_form(world, "not-the-token"))
    assert forged.status_code == 403
    manager, manager_csrf = await _signed_in(world, f"cara@{DOMAIN}")
    denied = await manager.post(SAVE, data=_form(world, manager_csrf))
    assert denied.status_code == 403
    async with world.app.state.sessionmaker() as session:
        assert await session.get(SamlConfig, world.firm_id) is None
    assert csrf


async def test_a_domain_of_another_firm_and_require_sso_without_break_glass_are_refused(
    world: SamlWorld,
) -> None:
    async with world.app.state.sessionmaker() as session:
        other = await create_firm(session, name="Other LLP", admin_email="oz@other-saml.test",
                                  admin_name="Oz")  # fmt: skip
        other_admin = Actor(other.admin_user_id, other.firm_id, world.admin.role)
        await save_saml_config(session, world.app.state.http, world.settings, other_admin,
                               SamlInput(metadata_xml=world.idp.metadata(),
                                         domains="other-saml.test", enabled=True))  # fmt: skip
    with pytest.raises(SsoSettingRejected, match="already leads to another firm"):
        await world.configure(domains=f"{DOMAIN}\nother-saml.test")
    with pytest.raises(SsoSettingRejected, match="name a break-glass admin"):
        await world.configure(require_sso=True)
    with pytest.raises(SsoSettingRejected, match="not an active firm admin"):
        await world.configure(require_sso=True, break_glass_email=f"cara@{DOMAIN}")


async def test_the_openid_form_cannot_set_the_saml_kind(world: SamlWorld) -> None:
    browser, csrf = await _signed_in(world, f"ada@{DOMAIN}")
    refused = await browser.post(PAGE, data={"csrf_token": csrf, "kind": "saml",
                                             "client_id": "x", "client_secret": "y",
                                             "domains": DOMAIN})  # fmt: skip
    assert refused.status_code == 422
    assert "Set up SAML with the SAML form" in refused.text
