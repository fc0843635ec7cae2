"""Browser sessions: the signed-in user behind the session cookie and the CSRF check every
POST form passes. Only the SHA-256 of a cookie value is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.services.access import Actor
from casecal.store.tables import Firm, Role, User, WebSession, utcnow
from casecal.web.deps import SessionDep

LOGIN_CSRF_COOKIE = "casecal_login_csrf"


def token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


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
    row = await session.get(WebSession, token_digest(cookie))
    if row is None or row.expires_at <= utcnow():
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.firm_id != row.firm_id:
        return None
    firm = await session.get(Firm, user.firm_id)
    zone = user.time_zone or (firm.time_zone if firm is not None else "UTC")
    viewer = Viewer(user.id, user.firm_id, user.role, user.name, user.email, zone)
    return SignedIn(session_id=row.id, csrf_token=row.csrf_token, user=viewer)


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
    value = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=token_digest(value),
            firm_id=user.firm_id,
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    await session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    await session.commit()
    return value


async def end_web_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id == session_id))
    await session.commit()


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
