"""SAML sign-in: the email's domain leads to the firm's SAML IdP (pysaml2 on the IdP side too,
with its own signing key); an existing user is matched, a newcomer is provisioned when the
firm allows it (name and team from attributes), the address may come from an attribute when
the NameID is opaque; CaseCal's SP metadata is served for the admin to give the IdP."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from saml_idp import NAMEID_FORMAT_PERSISTENT
from saml_world import DOMAIN, SamlWorld, make_world
from sqlalchemy import select

from casecal.config import Settings
from casecal.domain.settings_catalog import Level
from casecal.services.access import Actor
from casecal.services.firm_settings import Scope, set_value
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.sso_tables import SsoIdentity
from casecal.store.tables import Role
from casecal.web.ui.prompt_reasons import PROMPT_PAGE


@pytest.fixture
async def world(app: FastAPI, app_settings: Settings, tmp_path: Path) -> SamlWorld:
    return await make_world(app, app_settings, tmp_path)


async def test_an_existing_user_signs_in_through_the_firms_saml_idp(world: SamlWorld) -> None:
    await world.configure()
    browser = world.browser()
    done = await world.sign_in(f"cara@{DOMAIN}", browser=browser)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/calendar-sync"
    assert "casecal_session" in browser.cookies
    assert "casecal_saml" not in browser.cookies  # used up with the request
    page = await browser.get("/calendar-sync")
    assert page.status_code == 200
    assert f"cara@{DOMAIN}" in page.text
    assert await world.sessions() == 1
    assert await world.audit("sso.signed_in") == [{"provisioned": False, "kind": "saml"}]
    async with world.app.state.sessionmaker() as session:
        bound = (await session.scalars(select(SsoIdentity))).all()
    assert [(b.user_id, b.issuer, b.subject) for b in bound] == [
        (world.cara.id, f"saml:{world.idp.entity_id}", f"cara@{DOMAIN}")
    ]
    again = await world.sign_in(f"cara@{DOMAIN}")  # a second sign-in, a new request
    assert again.status_code == 303
    assert await world.sessions() == 2


async def test_a_newcomer_is_provisioned_with_name_and_team_from_attributes(
    world: SamlWorld,
) -> None:
    await world.configure(allow_provisioning=True, group_attribute="groups")
    done = await world.sign_in(
        f"nina@{DOMAIN}",
        attributes={"displayName": ["Nina Newcomer"], "groups": ["Staff", "probate"]},
    )
    assert done.status_code == 303, done.text
    nina = await world.user(f"nina@{DOMAIN}")
    assert nina is not None
    assert (nina.name, nina.role, nina.team_id, nina.password_hash) == (
        "Nina Newcomer", Role.CASE_MANAGER, world.team_id, None,
    )  # fmt: skip
    assert await world.audit("sso.user_provisioned") == [
        {"email": f"nina@{DOMAIN}", "team_id": str(world.team_id)}
    ]
    assert await world.audit("sso.signed_in") == [{"provisioned": True, "kind": "saml"}]


async def test_without_provisioning_a_newcomer_is_refused(world: SamlWorld) -> None:
    await world.configure(allow_provisioning=False)
    done = await world.sign_in(f"nina@{DOMAIN}")
    assert done.status_code == 403
    assert "There is no CaseCal account for" in done.text
    assert await world.user(f"nina@{DOMAIN}") is None
    assert await world.sessions() == 0


async def test_an_opaque_name_id_with_an_email_attribute_is_bound_to_the_user(
    world: SamlWorld,
) -> None:
    """ADFS style: a persistent NameID and the address in the emailaddress claim; the NameID
    is the identity kept, so the same person signs in again even with a new address."""
    await world.configure(
        email_attribute="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    )
    claim = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    done = await world.sign_in(
        f"cara@{DOMAIN}", name_id="S-1-5-21-4242", name_id_format=NAMEID_FORMAT_PERSISTENT,
        attributes={claim: [f"Cara@{DOMAIN}"]},
    )  # fmt: skip
    assert done.status_code == 303, done.text
    async with world.app.state.sessionmaker() as session:
        bound = await session.scalar(select(SsoIdentity))
    assert bound is not None
    assert (bound.user_id, bound.subject) == (world.cara.id, "S-1-5-21-4242")
    renamed = await world.sign_in(
        f"cara@{DOMAIN}", name_id="S-1-5-21-4242", name_id_format=NAMEID_FORMAT_PERSISTENT,
        attributes={claim: [f"cara.case@{DOMAIN}"]},
    )  # fmt: skip
    assert renamed.status_code == 303, renamed.text
    assert await world.sessions() == 2


async def test_an_answer_without_any_address_is_refused(world: SamlWorld) -> None:
    await world.configure()
    done = await world.sign_in(
        f"cara@{DOMAIN}", name_id="opaque-1", name_id_format=NAMEID_FORMAT_PERSISTENT
    )
    assert done.status_code == 403
    assert "sent no email address" in done.text
    assert await world.sessions() == 0


async def test_the_sp_metadata_is_served_per_firm(world: SamlWorld) -> None:
    browser = world.browser()
    got = await browser.get(f"/sso/saml/{world.firm_id}/metadata")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/samlmetadata+xml")
    assert f'entityID="http://testserver/sso/saml/{world.firm_id}/metadata"' in got.text
    assert f'Location="http://testserver/sso/saml/{world.firm_id}/acs"' in got.text
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in got.text
    assert 'WantAssertionsSigned="true"' in got.text
    assert (await browser.get("/sso/saml/not-a-firm/metadata")).status_code == 404
    other = "00000000-0000-4000-8000-000000000000"
    assert (await browser.get(f"/sso/saml/{other}/metadata")).status_code == 404


async def test_the_request_casecal_sends_names_its_acs_and_entity(world: SamlWorld) -> None:
    await world.configure()
    seen = await world.start(world.browser(), f"cara@{DOMAIN}")
    assert seen.acs_url == f"http://testserver{world.acs_path}"
    assert seen.sp_entity_id == f"http://testserver/sso/saml/{world.firm_id}/metadata"


async def test_as_after_any_sso_sign_in_the_connect_prompt_follows_when_the_firm_asks(
    world: SamlWorld,
) -> None:
    await world.configure()
    admin = Actor.of(world.admin)
    async with world.app.state.sessionmaker() as session:
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, world.cara.id)
        await set_value(session, admin, Scope(Level.FIRM, world.firm_id), "sso.ask_to_connect",
                        True, locked=True)  # fmt: skip
    browser = world.browser()
    done = await world.sign_in(f"cara@{DOMAIN}", browser=browser)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == PROMPT_PAGE
    page = await browser.get(PROMPT_PAGE)
    assert "<h1>Connect your calendar</h1>" in page.text
