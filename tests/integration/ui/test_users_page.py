"""Setup > Users: a firm admin adds people from the admin pages (case manager by default, a
team, an initial password or a one-time link to set it), errors are shown by the field, and
nobody else may add anyone."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import (
    PASSWORD,
    UiFirm,
    csrf_of,
    post_form,
    sign_in,
    signed_in_page,
)

from casecal.services.teams import create_team
from casecal.store.tables import Role, User

_LINK = re.compile(r'id="set-password-link" type="text" readonly value="([^"]+)"')


async def test_the_seats_empty_state_leads_to_adding_users(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, "/calendar-sync")
    assert '<a href="/users">Users</a>' in page.text  # in the admin's navigation
    users = await client.get("/users")
    assert users.status_code == 200
    assert "Carla Manager" in users.text
    assert '<option value="case_manager" selected>Case manager</option>' in users.text


async def test_admin_adds_a_case_manager_with_a_password_who_then_gets_a_seat_row(
    app: FastAPI,
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        team = await create_team(
            session, ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN), {"name": "Asylum"}
        )
    page = await signed_in_page(client, ui_firm.admin.email, "/users")
    done = await post_form(client, page, "/users", name="Erin Newcomer",
                           email="Erin@Alpha.test", role="case_manager", team_id=str(team.id),
                           password="a long enough one")  # fmt: skip
    assert done.status_code == 200
    assert "Erin Newcomer was added as case manager." in done.text
    assert 'id="set-password-link"' not in done.text
    async with sessionmaker() as session:
        erin = await session.scalar(select(User).where(User.email == "erin@alpha.test"))
    assert erin is not None
    assert (erin.role, erin.team_id, erin.firm_id) == (Role.CASE_MANAGER, team.id, ui_firm.id)
    seats = await client.get("/calendar-sync")
    assert "Erin Newcomer" in seats.text  # now a case manager the admin can seat

    newcomer = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with newcomer:
        signed = await sign_in(newcomer, "erin@alpha.test", "a long enough one")
    assert signed.status_code == 303


async def test_set_later_gives_a_one_time_link(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, "/users")
    done = await post_form(client, page, "/users", name="Fay Later", email="fay@alpha.test",
                           role="case_manager")  # fmt: skip
    link = _LINK.search(done.text)
    assert link is not None
    path = link.group(1).removeprefix("http://testserver")
    assert path.startswith("/set-password?token=")

    form = await client.get(path)
    assert form.status_code == 200
    assert "Fay Later" in form.text
    token = path.split("token=", 1)[1]
    short = await client.post("/set-password", data={"token": token, "password": "short"})
    assert short.status_code == 422
    assert "at least 8 characters" in short.text
    done = await client.post("/set-password", data={"token": token, "password": PASSWORD})
    assert done.status_code == 303
    assert done.headers["location"] == "/login?done=password-set"
    again = await client.post("/set-password", data={"token": token, "password": "another one!"})
    assert again.status_code == 422  # one use only
    assert "not valid any more" in again.text
    async with sessionmaker() as session:
        fay = await session.scalar(select(User).where(User.email == "fay@alpha.test"))
    assert fay is not None
    assert fay.password_hash
    forged = await client.get("/set-password?token=" + token[:-2] + "xx")
    assert "not valid any more" in forged.text


async def test_errors_are_shown_by_the_field_and_the_form_keeps_its_values(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, "/users")
    taken = await post_form(client, page, "/users", name="Carla Again", email=ui_firm.cm1.email,
                            role="staff")  # fmt: skip
    assert taken.status_code == 409
    assert 'id="user-email" name="email" type="email" required' in taken.text
    assert 'aria-invalid="true"' in taken.text
    assert "exists already" in taken.text.split('id="field-error"', 1)[1].split("</p>", 1)[0]
    assert 'value="Carla Again"' in taken.text
    assert '<option value="staff" selected>' in taken.text
    bad = await post_form(client, page, "/users", name="", email="x@alpha.test")
    assert bad.status_code == 422
    assert "the name is required" in bad.text
    async with sessionmaker() as session:
        assert await session.scalar(select(User).where(User.name == "Carla Again")) is None


async def test_a_case_manager_cannot_add_users(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar-sync")
    assert 'href="/users"' not in page.text
    listing = await client.get("/users")
    assert listing.status_code == 403
    assert "Dan Manager" not in listing.text
    made = await client.post(
        "/users",
        data={"csrf_token": csrf_of(page.text), "name": "Mallory", "email": "mallory@alpha.test"},
    )  # fmt: skip
    assert made.status_code == 403
    async with sessionmaker() as session:
        assert await session.scalar(select(User).where(User.name == "Mallory")) is None
