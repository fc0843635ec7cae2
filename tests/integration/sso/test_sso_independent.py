"""SSO sign-in through an OpenID provider no one in this project wrote (``oidc-provider-mock``,
over real HTTP on loopback): endpoints from its discovery document, keys from its JWKS, the
nonce required by the provider; a new person provisioned, an existing user matched by verified
email, an unverified email and an issuer that does not match refused."""

from __future__ import annotations

import html

from sqlalchemy import select
from sso_world import SsoWorld

from casecal.store.sso_tables import SsoIdentity
from casecal.store.tables import AuditEvent, Role


async def _actions(world: SsoWorld) -> list[str]:
    async with world.app.state.sessionmaker() as session:
        rows = await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
        return list(rows.all())


async def test_a_new_person_is_provisioned_and_lands_on_calendar_sync(sso_world: SsoWorld) -> None:
    await sso_world.configure("oidc", allow_provisioning=True, group_claim="groups")
    browser = sso_world.browser()
    done = await sso_world.sign_in("olga@okta-firm.test", sub="olga", browser=browser)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/calendar-sync"
    olga = await sso_world.user("olga@okta-firm.test")
    assert olga is not None
    assert olga.role is Role.CASE_MANAGER
    assert olga.name == "Olga Ortiz"
    assert olga.password_hash is None
    assert olga.team_id is None  # "Probate" names no team of the firm
    page = await browser.get("/calendar-sync")
    assert page.status_code == 200
    assert "Olga Ortiz" in page.text
    assert "sso.user_provisioned" in await _actions(sso_world)
    assert "sso.signed_in" in await _actions(sso_world)


async def test_an_existing_user_is_matched_by_verified_email_and_bound(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("oidc")
    done = await sso_world.sign_in("cara@okta-firm.test", sub="cara")
    assert done.status_code == 303, done.text
    async with sso_world.app.state.sessionmaker() as session:
        bound = (await session.scalars(select(SsoIdentity))).all()
    assert [(b.user_id, b.issuer, b.subject) for b in bound] == [
        (sso_world.cara.id, sso_world.issuer, "cara")
    ]
    again = await sso_world.sign_in("cara@okta-firm.test", sub="cara")
    assert again.status_code == 303
    assert await sso_world.sessions() == 2


async def test_without_provisioning_an_unknown_person_is_told_to_ask_the_admin(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("oidc")
    refused = await sso_world.sign_in("olga@okta-firm.test", sub="olga")
    assert refused.status_code == 403
    assert "no CaseCal account for olga@okta-firm.test" in refused.text
    assert await sso_world.user("olga@okta-firm.test") is None
    assert await sso_world.sessions() == 0


async def test_provisioning_is_only_for_the_firms_own_domains(sso_world: SsoWorld) -> None:
    await sso_world.configure("oidc", allow_provisioning=True)
    refused = await sso_world.sign_in("olga@okta-firm.test", sub="xavier")  # picks another
    assert refused.status_code == 403
    assert "is not at one of your firm" in html.unescape(refused.text)
    assert await sso_world.user("xavier@elsewhere.test") is None
    assert await sso_world.sessions() == 0


async def test_an_unverified_email_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("oidc", allow_provisioning=True)
    refused = await sso_world.sign_in("omar@okta-firm.test", sub="omar")
    assert refused.status_code == 403
    assert "did not confirm the address omar@okta-firm.test as verified" in refused.text
    assert await sso_world.user("omar@okta-firm.test") is None
    assert await sso_world.sessions() == 0
    assert "casecal_session" not in refused.headers.get("set-cookie", "")


async def test_a_discovery_document_naming_another_issuer_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("oidc", issuer=sso_world.issuer + "/")
    browser = sso_world.browser()
    await browser.get("/login")
    answer = await browser.post(
        "/login/sso",
        data={"email": "cara@okta-firm.test",
              "csrf_token": browser.cookies.get("casecal_login_csrf", "")},
    )  # fmt: skip
    assert answer.status_code == 502
    assert "names another issuer" in answer.text
