"""UI test fixtures: a firm with an admin, two case managers and a staff member who can all
sign in with a password, and helpers that sign in through the login form like a browser."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth.passwords import hash_password
from casecal.services.access import Actor
from casecal.services.cases import create_case
from casecal.services.firms import create_firm
from casecal.services.users import create_user
from casecal.store.tables import Role, User

PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    name: str


@dataclass(frozen=True)
class UiFirm:
    id: uuid.UUID
    admin: Person
    cm1: Person
    cm2: Person
    staff: Person
    case_id: uuid.UUID

    def actor(self, person: Person, role: Role) -> Actor:
        return Actor(user_id=person.id, firm_id=self.id, role=role)


async def _person(session: AsyncSession, admin: Actor, email: str, name: str, role: Role) -> Person:
    user = await create_user(session, admin, {"email": email, "name": name, "role": role})
    return Person(user.id, email, name)


async def make_ui_firm(sessionmaker: async_sessionmaker[AsyncSession], slug: str) -> UiFirm:
    async with sessionmaker() as session:
        made = await create_firm(
            session, name=f"Firm {slug}", admin_email=f"admin@{slug}.test", admin_name="Ada Admin"
        )
        admin = Actor(made.admin_user_id, made.firm_id, Role.FIRM_ADMIN)
        cm1 = await _person(session, admin, f"cm1@{slug}.test", "Carla Manager", Role.CASE_MANAGER)
        cm2 = await _person(session, admin, f"cm2@{slug}.test", "Dan Manager", Role.CASE_MANAGER)
        staff = await _person(session, admin, f"staff@{slug}.test", "Sam Staff", Role.STAFF)
        case = await create_case(
            session,
            admin,
            {"number": f"{slug}-1", "beneficiary": "Ana Diaz", "manager_ids": [cm1.id]},
        )
        for user_id in (made.admin_user_id, cm1.id, cm2.id, staff.id):
            user = await session.get(User, user_id)
            assert user is not None
            user.password_hash = PASSWORD_HASH
        await session.commit()
        return UiFirm(
            id=made.firm_id,
            admin=Person(made.admin_user_id, f"admin@{slug}.test", "Ada Admin"),
            cm1=cm1, cm2=cm2, staff=staff, case_id=case.id,
        )  # fmt: skip


@pytest.fixture
async def ui_firm(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]) -> UiFirm:
    return await make_ui_firm(sessionmaker, "alpha")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/login")
    assert form.status_code == 200, form.text
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_of(form.text)}
    )


async def signed_in_page(client: httpx.AsyncClient, email: str, path: str) -> httpx.Response:
    done = await sign_in(client, email)
    assert done.status_code == 303, done.text
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return page


async def post_form(
    client: httpx.AsyncClient, page: httpx.Response, action: str, **fields: str
) -> httpx.Response:
    """Post one of ``page``'s forms with the CSRF token the page carries."""
    assert f'action="{action}"' in page.text, f"no form posting to {action}"
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **fields})
