"""SSO security: a replayed answer, one from another browser, a nonce that is not the
sign-in's, another issuer, another audience, an expired id_token, a ``tid`` or ``hd`` the firm
does not list and an unverified email are each refused with a page saying why, audited, and
no session is made; a firm that requires SSO refuses local passwords but its break-glass admin
still signs in with one."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from sso_world import GOOGLE, MICROSOFT, PASSWORD, SsoWorld

from casecal.store.tables import AuditEvent


class TamperingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and rewrites the id_token of token answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rewrite: Callable[[str], str]) -> None:
        self.inner = inner
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/token"):
            return response
        body = json.loads(await response.aread())
        if "id_token" in body:
            body["id_token"] = self.rewrite(body["id_token"])
        return httpx.Response(response.status_code, json=body)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def _refusals(world: SsoWorld) -> list[object]:
    async with world.app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sso.refused").order_by(AuditEvent.id)
        )
        return [row.details.get("reason") for row in rows]


async def _refused(world: SsoWorld, answer: httpx.Response, text: str, reason: str) -> None:
    assert answer.status_code == 403, answer.text
    assert "Sign-in refused" in answer.text
    assert text in html.unescape(answer.text)
    assert "casecal_session" not in answer.headers.get("set-cookie", "")
    assert await world.sessions() == 0
    assert (await _refusals(world))[-1] == reason


async def test_a_replayed_answer_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    browser = sso_world.browser()
    callback = await sso_world.at_provider(await sso_world.start(browser, "gina@firm.test"))
    cookie = browser.cookies["casecal_sso"]
    parts = urlsplit(callback)
    first = await browser.get(f"{parts.path}?{parts.query}")
    assert first.status_code == 303
    assert "casecal_sso" not in browser.cookies  # used up with the request
    replay = sso_world.browser()  # the same answer and the same browser cookie, again
    again = await replay.get(
        f"{parts.path}?{parts.query}", headers={"Cookie": f"casecal_sso={cookie}"}
    )
    assert again.status_code == 403
    assert "already used once" in again.text
    assert await sso_world.sessions() == 1
    assert (await _refusals(sso_world))[-1] == "state_replayed"


async def test_an_answer_in_another_browser_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    callback = await sso_world.at_provider(
        await sso_world.start(sso_world.browser(), "gina@firm.test")
    )
    parts = urlsplit(callback)
    answer = await sso_world.browser().get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 403
    assert "started in another browser" in answer.text
    assert await sso_world.sessions() == 0
    assert await _refusals(sso_world) == ["state_other_browser"]


def _resigned(world: SsoWorld, change: dict[str, Any], *, lifetime: int = 3600) -> Callable[
    [str], str
]:  # fmt: skip
    def rewrite(token: str) -> str:
        claims = {k: v for k, v in _claims(token).items() if k not in ("iat", "nbf", "exp")}
        return world.google.key.sign(claims | change, lifetime=lifetime)

    return rewrite


@pytest.mark.parametrize(
    ("change", "lifetime", "text", "reason"),
    [
        ({"nonce": "not-this-sign-ins"}, 3600, "its nonce is not this sign-in's", "nonce"),
        ({"iss": "http://evil.test"}, 3600, "issued by another issuer", "issuer"),
        ({"aud": "another-client"}, 3600, "issued to another client", "audience"),
        ({}, -600, "it has expired", "expired"),
    ],
)
async def test_an_id_token_failing_a_check_is_refused(
    sso_world: SsoWorld, change: dict[str, Any], lifetime: int, text: str, reason: str
) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    inner = httpx.ASGITransport(app=sso_world.google.app)
    tampering = TamperingTransport(inner, _resigned(sso_world, change, lifetime=lifetime))
    sso_world.app.state.http = httpx.AsyncClient(
        mounts={GOOGLE: tampering, MICROSOFT: httpx.ASGITransport(app=sso_world.microsoft.app)}
    )
    try:
        await _refused(sso_world, await sso_world.sign_in("gina@firm.test"), text, reason)
    finally:
        await sso_world.app.state.http.aclose()
    assert await sso_world.user("gina@firm.test") is None


async def _picks_another_account(world: SsoWorld, typed: str, account: str) -> httpx.Response:
    """The person types ``typed`` but picks ``account`` at the provider's account chooser."""
    browser = world.browser()
    url = httpx.URL(await world.start(browser, typed))
    callback = await world.at_provider(str(url.copy_set_param("login_hint", account)))
    parts = urlsplit(callback)
    return await browser.get(f"{parts.path}?{parts.query}")


async def test_a_tenant_the_firm_does_not_list_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("entra", allow_provisioning=True)
    answer = await _picks_another_account(sso_world, "mia@firm-ms.test", "eve@other.test")
    await _refused(sso_world, answer, "your firm has not listed", "tenant")
    assert await sso_world.user("eve@other.test") is None


@pytest.mark.parametrize("account", ["gus@elsewhere.test", "pat@gmail.test"])
async def test_a_hosted_domain_the_firm_does_not_list_is_refused(
    sso_world: SsoWorld, account: str
) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    answer = await _picks_another_account(sso_world, "gina@firm.test", account)
    await _refused(sso_world, answer, "is not one of your firm's Google Workspace", "hosted_domain")
    assert await sso_world.user(account) is None


async def test_an_unverified_google_email_is_refused(sso_world: SsoWorld) -> None:
    await sso_world.configure("google", allow_provisioning=True)
    answer = await sso_world.sign_in("uma@firm.test")
    await _refused(sso_world, answer, "did not confirm the address", "unverified_email")


async def _password(world: SsoWorld, email: str) -> httpx.Response:
    browser = world.browser()
    await browser.get("/login")
    csrf = browser.cookies.get("casecal_login_csrf", "")
    return await browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}
    )


async def test_a_firm_that_requires_sso_refuses_local_passwords_but_its_break_glass_admin(
    sso_world: SsoWorld,
) -> None:
    assert (await _password(sso_world, "cara@okta-firm.test")).status_code == 303
    await sso_world.configure("oidc", require_sso=True, break_glass_email="ada@firm.test")
    refused = await _password(sso_world, "cara@okta-firm.test")
    assert refused.status_code == 403
    assert "local passwords are turned off" in refused.text
    assert 'name="password"' not in refused.text  # only the firm's account is offered
    assert "casecal_session" not in refused.headers.get("set-cookie", "")
    admin = await _password(sso_world, "ada@firm.test")
    assert admin.status_code == 303
    assert admin.headers["location"] == "/calendar-sync"
    done = await sso_world.sign_in("cara@okta-firm.test", sub="cara")
    assert done.status_code == 303  # through the identity provider she still signs in


async def test_the_sso_only_answer_does_not_tell_whether_an_account_exists(
    sso_world: SsoWorld,
) -> None:
    """Whether SSO is required is told by the address's domain, never by an account: any
    address of the domain a password does not open gets the same page."""
    await sso_world.configure("oidc", require_sso=True, break_glass_email="ada@firm.test")

    async def answer(email: str, password: str = PASSWORD) -> tuple[int, str]:
        browser = sso_world.browser()
        await browser.get("/login")
        csrf = browser.cookies.get("casecal_login_csrf", "")
        form = {"email": email, "password": password, "csrf_token": csrf}
        got = await browser.post("/login", data=form)
        text = got.text.replace(email, "<email>")  # the form keeps what was typed
        return got.status_code, re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    account = await answer("cara@okta-firm.test")
    assert account[0] == 403
    assert await answer("nobody@okta-firm.test") == account
    assert await answer("cara@okta-firm.test", "a wrong password") == account
    local = await answer("zed@firm.test", "a wrong password")  # a domain without SSO
    assert local[0] == 401
    assert await answer("ada@firm.test", "a wrong password") == local  # the break-glass admin
