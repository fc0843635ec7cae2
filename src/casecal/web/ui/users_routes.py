"""Setup > Users: a firm admin sees the firm's people and adds one (case manager by default,
with a team, and an initial password or a one-time link to set it); the link's page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.errors import DomainError, ValidationFailed
from casecal.services.user_invites import add_user, set_password_with_link, user_of_link
from casecal.services.users_view import firm_people
from casecal.store.tables import Role, User
from casecal.web.deps import SessionDep
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn, settings_of
from casecal.web.ui.templating import render

router = APIRouter()

PAGE = "/users"
ROLE_LABELS = {Role.CASE_MANAGER: "Case manager", Role.STAFF: "Staff",
               Role.FIRM_ADMIN: "Firm admin"}  # fmt: skip


async def _people(session: AsyncSession, signed: SignedIn) -> dict[str, Any]:
    found = await firm_people(session, signed.user.firm_id)
    return {"people": found.users, "teams": found.teams,
            "team_names": {t.id: t.name for t in found.teams},
            "seated": found.seated, "roles": ROLE_LABELS}  # fmt: skip


async def _page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    if not signed.is_admin:
        return render(request, "users.html", {"error": "Only a firm admin manages users."},
                      signed=signed, status_code=403)  # fmt: skip
    form = {"name": "", "email": "", "role": Role.CASE_MANAGER.value, "team_id": ""}
    context = await _people(session, signed) | {"form": form, "field": "", "added": None}
    return render(request, "users.html", context | (extra or {}), signed=signed,
                  status_code=status_code)  # fmt: skip


@router.get(PAGE)
async def users_page(request: Request, session: SessionDep, signed: CurrentWebSession) -> Response:
    return await _page(request, session, signed)


@router.post(PAGE)
async def add(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = Role.CASE_MANAGER.value,
    team_id: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "email": email, "role": role, "team_id": team_id}
    try:
        data = {"name": _required(name, "name"), "email": email,
                "role": _role(role), "team_id": _team(team_id)}  # fmt: skip
        added = await add_user(session, settings_of(request), signed.actor, data, password)
    except DomainError as exc:
        await session.rollback()
        said = {"field_error": exc.detail} if exc.field else {"error": exc.detail}
        return await _page(request, session, signed,
                           {"form": form, "field": exc.field or ""} | said,
                           status_code=exc.status_code)  # fmt: skip
    notice = f"{added.user.name} was added as {ROLE_LABELS[added.user.role].lower()}."
    return await _page(request, session, signed, {"added": added, "notice": notice})


def _required(value: str, field: str) -> str:
    if not value.strip():
        raise ValidationFailed(f"the {field} is required", field=field)
    return value.strip()


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed("choose a role", field="role") from None


def _team(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed("choose a team", field="team_id") from None


@router.get("/set-password")
async def set_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    try:
        user = await user_of_link(session, settings_of(request), token)
    except DomainError as exc:
        return render(request, "set_password.html", {"error": exc.detail, "token": ""},
                      status_code=exc.status_code)  # fmt: skip
    return render(request, "set_password.html", {"token": token, "person": user})


@router.post("/set-password")
async def set_password(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """No session and no CSRF token: the one-time link's token is the secret a forged form
    would need."""
    try:
        await set_password_with_link(session, settings_of(request), token, password)
    except DomainError as exc:
        await session.rollback()
        keep = token if exc.field == "password" else ""
        person = await _link_person(session, request, keep)
        return render(request, "set_password.html",
                      {"error": exc.detail, "token": keep, "person": person},
                      status_code=exc.status_code)  # fmt: skip
    return RedirectResponse("/login?done=password-set", status_code=303)


async def _link_person(session: AsyncSession, request: Request, token: str) -> User | None:
    if not token:
        return None
    try:
        return await user_of_link(session, settings_of(request), token)
    except DomainError:
        return None
