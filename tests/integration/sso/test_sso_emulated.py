"""SSO sign-in through our emulated Entra ID and Google: a person of a listed tenant is
provisioned into the team their ``groups`` claim names and keyed by ``tid`` + ``oid`` from then
on; a Google Workspace person of a listed ``hd`` signs in; the sign-in page sends an email of a
domain without SSO back to the password form."""

from __future__ import annotations

from sqlalchemy import select
from sso_world import SsoWorld

from casecal.store.sso_tables import SsoIdentity
from casecal.store.tables import Role


async def test_entra_id_person_is_provisioned_into_the_team_their_group_names(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("entra", allow_provisioning=True, group_claim="groups")
    browser = sso_world.browser()
    done = await sso_world.sign_in("mia@firm-ms.test", browser=browser)
    assert done.status_code == 303, done.text
    mia = await sso_world.user("mia@firm-ms.test")
    assert mia is not None
    assert (mia.role, mia.team_id, mia.name) == (Role.CASE_MANAGER, sso_world.team_id, "Mia Moss")
    async with sso_world.app.state.sessionmaker() as session:
        [bound] = (await session.scalars(select(SsoIdentity))).all()
    oid = sso_world.microsoft.state.user_by_upn("mia@firm-ms.test").oid  # type: ignore[union-attr]
    assert (bound.issuer, bound.subject) == (f"entra:{sso_world.tenant_id}", oid)
    assert "Mia Moss" in (await browser.get("/calendar-sync")).text


async def test_entra_id_identity_once_bound_outlives_an_address_change(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("entra", allow_provisioning=True)
    assert (await sso_world.sign_in("mia@firm-ms.test")).status_code == 303
    user = sso_world.microsoft.state.user_by_upn("mia@firm-ms.test")
    assert user is not None
    user.upn = user.mail = "mia.moss@firm-ms.test"  # renamed in the directory
    again = await sso_world.sign_in("mia.moss@firm-ms.test")
    assert again.status_code == 303, again.text
    assert await sso_world.user("mia.moss@firm-ms.test") is None  # the same user, not a new one


async def test_google_workspace_person_of_a_listed_hosted_domain_signs_in(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    provider_url = await sso_world.start(sso_world.browser(), "gina@firm.test")
    assert "hd=firm.test" in provider_url  # a hint for the account chooser only
    done = await sso_world.sign_in("gina@firm.test")
    assert done.status_code == 303, done.text
    gina = await sso_world.user("gina@firm.test")
    assert gina is not None
    assert gina.role is Role.CASE_MANAGER


async def test_an_email_domain_without_sso_goes_back_to_the_password_form(
    sso_world: SsoWorld,
) -> None:
    await sso_world.configure("google")
    browser = sso_world.browser()
    await browser.get("/login")
    csrf = browser.cookies.get("casecal_login_csrf", "")
    answer = await browser.post("/login/sso", data={"email": "x@nosso.test", "csrf_token": csrf})
    assert answer.status_code == 404
    assert "Sign in with your email and password below" in answer.text
    assert 'name="password"' in answer.text
    forged = await browser.post("/login/sso", data={"email": "gina@firm.test"})
    assert forged.status_code == 403


async def test_a_rotated_signing_key_is_picked_up(sso_world: SsoWorld) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    assert (await sso_world.sign_in("gina@firm.test")).status_code == 303
    before = sso_world.google.key.kid
    sso_world.google.key.rotate()  # Google rolls its keys; discovery is kept for an hour
    assert sso_world.google.key.kid != before
    again = await sso_world.sign_in("gina@firm.test")
    assert again.status_code == 303, again.text
