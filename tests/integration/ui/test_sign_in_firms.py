"""Sign-in when an address belongs to people of several firms: the password picks the account
it opens; when it opens several, a chooser lists those firms only (never a firm whose
account the password did not open), and the choice cannot be forged or replayed elsewhere.
``casecal user set-password`` asks which firm for such an address."""

from __future__ import annotations

import asyncio
import hashlib
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import PASSWORD, UiFirm, make_ui_firm, sign_in
from typer.testing import CliRunner

from casecal.auth.passwords import hash_password
from casecal.cli_users import app as users_cli
from casecal.services.access import Actor
from casecal.services.users import create_user
from casecal.store.tables import Role, User, WebSession

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SHARED = "cm1@alpha.test"  # alpha's case manager, also a member of bravo and charlie
_CHOICE = re.compile(r'name="choice" value="([^"]+)"')
_USER = re.compile(r'name="user_id" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _member_of(
    sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm, password: str
) -> User:
    async with sessionmaker() as session:
        admin = Actor(firm.admin.id, firm.id, Role.FIRM_ADMIN)
        user = await create_user(session, admin, {"email": SHARED, "name": "Carla Twin",
                                                   "role": Role.STAFF})  # fmt: skip
        user.password_hash = hash_password(password)
        await session.commit()
        return user


async def _signed_in_firm(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> object:
    async with sessionmaker() as session:
        digest = hashlib.sha256(client.cookies["casecal_session"].encode())
        row = await session.get(WebSession, digest.hexdigest())
        assert row is not None
        return row.firm_id


@pytest.fixture
async def firms(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[UiFirm, UiFirm, UiFirm]:
    return (
        await make_ui_firm(sessionmaker, "alpha"),
        await make_ui_firm(sessionmaker, "bravo"),
        await make_ui_firm(sessionmaker, "charlie"),
    )


async def test_the_password_picks_the_firm_it_opens(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firms: tuple[UiFirm, UiFirm, UiFirm],
) -> None:
    alpha, bravo, _ = firms
    await _member_of(sessionmaker, bravo, "bravo's own password")
    done = await sign_in(client, SHARED, PASSWORD)
    assert done.status_code == 303
    assert await _signed_in_firm(sessionmaker, client) == alpha.id
    client.cookies.clear()
    done = await sign_in(client, SHARED, "bravo's own password")
    assert done.status_code == 303
    assert await _signed_in_firm(sessionmaker, client) == bravo.id


async def test_a_password_opening_two_firms_asks_which_and_names_only_those(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firms: tuple[UiFirm, UiFirm, UiFirm],
) -> None:
    alpha, bravo, charlie = firms
    twin = await _member_of(sessionmaker, bravo, PASSWORD)
    await _member_of(sessionmaker, charlie, "charlie's own password")
    chooser = await sign_in(client, SHARED, PASSWORD)
    assert chooser.status_code == 200
    assert "Which firm?" in chooser.text
    assert "Firm alpha" in chooser.text
    assert "Firm bravo" in chooser.text
    assert "Firm charlie" not in chooser.text  # the password did not open charlie's account
    assert "casecal_session" not in client.cookies
    ids = _USER.findall(chooser.text)
    assert sorted(ids) == sorted([str(alpha.cm1.id), str(twin.id)])
    choice, csrf = _CHOICE.findall(chooser.text)[0], _CSRF.findall(chooser.text)[0]

    chosen = await client.post(
        "/login/choose",
        data={"choice": choice, "user_id": str(twin.id), "csrf_token": csrf, "next": "/calendar"},
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/calendar"
    assert await _signed_in_firm(sessionmaker, client) == bravo.id


async def test_the_choice_cannot_be_forged(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firms: tuple[UiFirm, UiFirm, UiFirm],
) -> None:
    _, bravo, charlie = firms
    await _member_of(sessionmaker, bravo, PASSWORD)
    stranger = await _member_of(sessionmaker, charlie, "charlie's own password")
    chooser = await sign_in(client, SHARED, PASSWORD)
    choice, csrf = _CHOICE.findall(chooser.text)[0], _CSRF.findall(chooser.text)[0]
    other = await client.post(  # an account the password did not open
        "/login/choose", data={"choice": choice, "user_id": str(stranger.id), "csrf_token": csrf}
    )
    assert other.status_code == 401
    tampered = choice[:-3] + ("AAA" if not choice.endswith("AAA") else "BBB")
    forged = await client.post(
        "/login/choose",
        data={"choice": tampered, "user_id": str(stranger.id), "csrf_token": csrf},
    )
    assert forged.status_code == 403
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        form = await elsewhere.get("/login")  # another browser, its own login CSRF cookie
        replay = await elsewhere.post(
            "/login/choose",
            data={"choice": choice, "user_id": _USER.findall(chooser.text)[0],
                  "csrf_token": _CSRF.findall(form.text)[0]},
        )  # fmt: skip
        assert replay.status_code == 403
    assert "casecal_session" not in client.cookies


async def test_set_password_asks_which_firm_for_a_shared_address(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    firms: tuple[UiFirm, UiFirm, UiFirm],
) -> None:
    _, bravo, _ = firms
    twin = await _member_of(sessionmaker, bravo, PASSWORD)
    env = {"CASECAL_DATABASE_URL": database_url}
    args = ["set-password", "--email", SHARED, "--password", "a brand new secret"]
    runner = CliRunner()
    ambiguous = await asyncio.to_thread(runner.invoke, users_cli, args, env=env)
    assert ambiguous.exit_code == 2
    assert "--firm" in ambiguous.output
    done = await asyncio.to_thread(
        runner.invoke, users_cli, [*args, "--firm", "Firm bravo"], env=env
    )
    assert done.exit_code == 0, done.output
    async with sessionmaker() as session:
        hashes = {
            u.id: u.password_hash
            for u in await session.scalars(select(User).where(User.email == SHARED))
        }
    assert hashes[twin.id] != hashes[next(i for i in hashes if i != twin.id)]
