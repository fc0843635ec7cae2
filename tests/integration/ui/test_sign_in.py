"""Sign-in through the login form: the session cookie, wrong passwords, the rate limit,
CSRF on the login form and on every signed-in form, sign-out, and sessions stored hashed.
The throttle itself (device cookies, shared budgets) is in ``test_sign_in_throttle``."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import PASSWORD, UiFirm, csrf_of, sign_in

from casecal.store.tables import WebSession

# Session logic reads one row by key; the pages' own queries also run on PostgreSQL elsewhere.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_sign_in_sets_a_hardened_cookie_and_stores_only_its_hash(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    done = await sign_in(client, ui_firm.admin.email)
    assert done.status_code == 303
    assert done.headers["location"] == "/calendar-sync"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("casecal_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain HTTP in tests
    value = client.cookies["casecal_session"]
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(WebSession)))
    assert [row.id for row in rows] == [hashlib.sha256(value.encode()).hexdigest()]
    assert rows[0].user_id == ui_firm.admin.id
    page = await client.get("/calendar-sync")
    assert page.status_code == 200
    assert "Ada Admin" in page.text


async def test_wrong_password_and_unknown_email_are_refused_alike(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    wrong = await sign_in(client, ui_firm.admin.email, "not the password")
    unknown = await sign_in(client, "nobody@alpha.test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an active account" in response.text
    assert "casecal_session" not in client.cookies
    assert (await client.get("/calendar-sync")).status_code == 303


async def test_pages_redirect_to_sign_in_and_back(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    page = await client.get("/calendar?week=2026-03-09")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/calendar%3Fweek%3D2026-03-09"
    form = await client.get(page.headers["location"])
    assert 'name="next" value="/calendar?week=2026-03-09"' in form.text
    done = await client.post(
        "/login",
        data={"email": ui_firm.cm1.email, "password": PASSWORD, "csrf_token": csrf_of(form.text),
              "next": "/calendar?week=2026-03-09"},
    )  # fmt: skip
    assert done.headers["location"] == "/calendar?week=2026-03-09"


async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient, ui_firm: UiFirm) -> None:
    form = await client.get("/login")
    done = await client.post(
        "/login",
        data={"email": ui_firm.cm1.email, "password": PASSWORD, "csrf_token": csrf_of(form.text),
              "next": "//evil.example/steal"},
    )  # fmt: skip
    assert done.headers["location"] == "/calendar-sync"


async def test_login_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    await client.get("/login")
    forged = await client.post(
        "/login", data={"email": ui_firm.admin.email, "password": PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 403
    assert "casecal_session" not in client.cookies


async def test_rate_limit_stops_guessing_even_with_the_right_password(
    app: FastAPI, client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    app.state.settings.login_attempts_per_15_minutes = 3
    for _ in range(4):  # colleagues signing in from the same address are not limited
        assert (await sign_in(client, ui_firm.cm2.email)).status_code == 303
        client.cookies.clear()
    for _ in range(3):
        assert (await sign_in(client, ui_firm.cm1.email, "guess")).status_code == 401
    blocked = await sign_in(client, ui_firm.cm1.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.text
    assert 800 < int(blocked.headers["retry-after"]) <= 900
    assert "casecal_session" not in client.cookies


async def test_signed_in_forms_need_the_session_csrf_token(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    await sign_in(client, ui_firm.admin.email)
    for token in ("", "wrong-token"):
        refused = await client.post(
            "/calendar-sync/subscription/request", data={"csrf_token": token}
        )
        assert refused.status_code == 403
    page = await client.get("/calendar-sync")
    assert "Subscribe to Calendar Sync" in page.text  # nothing happened


async def test_logout_ends_the_session_server_side(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(client, ui_firm.cm1.email)
    value = client.cookies["casecal_session"]
    page = await client.get("/calendar-sync")
    out = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303
    assert out.headers["location"].startswith("/login")
    async with sessionmaker() as session:
        assert list(await session.scalars(select(WebSession))) == []
    client.cookies.set("casecal_session", value)  # a stolen copy of the cookie is now useless
    assert (await client.get("/calendar-sync")).status_code == 303
