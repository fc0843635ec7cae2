"""Sign-in and sign-out pages: email + password (argon2), a rate limit, a session cookie."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from casecal.auth.passwords import hash_password as _hash
from casecal.auth.passwords import needs_rehash, verify_password
from casecal.store.tables import User
from casecal.web.deps import SessionDep
from casecal.web.ui.session import (
    LOGIN_CSRF_COOKIE,
    CsrfChecked,
    clear_session_cookie,
    end_web_session,
    load_signed_in,
    login_limiter,
    set_session_cookie,
    settings_of,
    start_web_session,
    tokens_match,
)
from casecal.web.ui.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/calendar-sync"


def _login_page(
    request: Request, *, next_url: str, error: str = "", email: str = "", status_code: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    context = {"next_url": next_url, "login_csrf": token, "email": email, "error": error}
    response = render(request, "login.html", context, status_code=status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).cookie_secure,
        path="/login",
    )
    return response


@router.get("/")
async def home(request: Request, session: SessionDep) -> Response:
    signed = await load_signed_in(request, session)
    return RedirectResponse("/calendar-sync" if signed else "/login", status_code=303)


@router.get("/login")
async def login_form(request: Request, session: SessionDep, next: str = "") -> Response:
    if await load_signed_in(request, session) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    target = _safe_next(next)
    address = email.strip().lower()
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(
            request, next_url=target, email=address, status_code=403,
            error="The sign-in form expired. Please try again.",
        )  # fmt: skip
    client = request.client.host if request.client else "unknown"
    keys, limiter = [f"email:{address}", f"ip:{client}"], login_limiter(request)
    if limiter.blocked(keys):
        return _login_page(
            request, next_url=target, email=address, status_code=429,
            error="Too many sign-in attempts. Wait 15 minutes and try again.",
        )  # fmt: skip
    user = await session.scalar(select(User).where(User.email == address))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        limiter.failed(keys)
        return _login_page(
            request, next_url=target, email=address, status_code=401,
            error="That email and password do not match an active account.",
        )  # fmt: skip
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = _hash(password)
    value = await start_web_session(session, user, settings_of(request))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, value, settings_of(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    await end_web_session(session, signed.session_id)
    response = RedirectResponse("/login?done=signed-out", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response
