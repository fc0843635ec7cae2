"""Browser sessions: the signed-in user behind the session cookie and the CSRF check every
POST form passes. Only the SHA-256 of a cookie value is ever stored."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.services import web_sessions
from casecal.services.access import Actor
from casecal.store.tables import Role, User
from casecal.web.deps import SessionDep

LOGIN_CSRF_COOKIE = "casecal_login_csrf"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class Viewer:
    """The signed-in user, copied out of the database row (safe after a rollback)."""

    id: uuid.UUID
    firm_id: uuid.UUID
    role: Role
    name: str
    email: str
    time_zone: str = "UTC"
    """The zone pages show times in: the user's own setting, else the firm's."""


@dataclass(frozen=True)
class SignedIn:
    """The signed-in browser: its session id (the SHA-256 of the cookie), CSRF token and user."""

    session_id: str
    csrf_token: str
    user: Viewer

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, firm_id=self.user.firm_id, role=self.user.role)

    @property
    def is_admin(self) -> bool:
        return self.user.role is Role.FIRM_ADMIN


def sign_in_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, "sign in first", {"Location": f"/login?next={quote(target)}"})


async def load_signed_in(request: Request, session: AsyncSession) -> SignedIn | None:
    cookie = request.cookies.get(settings_of(request).session_cookie_name)
    if not cookie:
        return None
    live = await web_sessions.live_session(session, cookie)
    if live is None:
        return None
    user = live.user
    viewer = Viewer(user.id, user.firm_id, user.role, user.name, user.email, live.time_zone)
    return SignedIn(session_id=live.id, csrf_token=live.csrf_token, user=viewer)


async def current_web_session(request: Request, session: SessionDep) -> SignedIn:
    """The signed-in browser, or a redirect to the sign-in page."""
    signed = await load_signed_in(request, session)
    if signed is None:
        raise sign_in_redirect(request)
    return signed


CurrentWebSession = Annotated[SignedIn, Depends(current_web_session)]


async def signed_in_actor(signed: CurrentWebSession) -> Actor:
    return signed.actor


SignedInActor = Annotated[Actor, Depends(signed_in_actor)]


def tokens_match(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


async def csrf_checked(request: Request, signed: CurrentWebSession) -> SignedIn:
    """Every POST form of a signed-in browser carries its session's CSRF token."""
    form = await request.form()
    given = form.get("csrf_token")
    if not tokens_match(given if isinstance(given, str) else None, signed.csrf_token):
        raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
    return signed


CsrfChecked = Annotated[SignedIn, Depends(csrf_checked)]


async def start_web_session(session: AsyncSession, user: User, settings: Settings) -> str:
    """Store a new session for ``user`` and return the cookie value (shown only here)."""
    return await web_sessions.start(session, user, hours=settings.session_hours)


async def end_web_session(session: AsyncSession, session_id: str) -> None:
    await web_sessions.end(session, session_id)


def set_session_cookie(response: Response, value: str, settings: Settings) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        value,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
