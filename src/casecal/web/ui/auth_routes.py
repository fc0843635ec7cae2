"""Sign-in and sign-out pages: email + password (argon2) against the email's accounts in every
firm (a chooser when it opens several), attempt budgets shared by every process and counted
before any password check, a session cookie and a device cookie bound to the accounts the
browser signed in to."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.devices import DEVICE_COOKIE, DEVICE_DAYS, Device, device_for, issue_device
from casecal.auth.encryption import secret_material
from casecal.auth.signed import sign, unsign
from casecal.auth.throttle import admit, take_back
from casecal.domain.client_address import client_address, trusted_networks
from casecal.domain.sign_in_budgets import Gate, gates_for
from casecal.domain.sign_in_budgets import retry_after as seconds_until
from casecal.domain.sign_in_email import plausible_sign_in_email
from casecal.services.sign_in import (
    Account,
    Opened,
    accounts_of,
    accounts_opened,
    active_user,
    signed_in_user,
)
from casecal.services.sso import domain_requires_sso, password_refused
from casecal.store.tables import User, utcnow
from casecal.web.deps import SessionDep
from casecal.web.ui.session import (
    LOGIN_CSRF_COOKIE,
    CsrfChecked,
    clear_session_cookie,
    end_web_session,
    load_signed_in,
    set_session_cookie,
    settings_of,
    start_web_session,
    tokens_match,
)
from casecal.web.ui.templating import render

router = APIRouter()

CHOICE_PURPOSE = "sign-in firm choice"
CHOICE_SECONDS = 300


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/calendar-sync"


safe_next = _safe_next


def _login_csrf(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def _with_login_csrf(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).cookie_secure,
        path="/login",
    )
    return response


def _login_page(
    request: Request,
    *,
    next_url: str,
    error: str = "",
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    sso_only: bool = False,
) -> Response:
    token = _login_csrf(request)
    context = {"next_url": next_url, "login_csrf": token, "email": email, "error": error,
               "sso_only": sso_only}  # fmt: skip
    response = render(request, "login.html", context, status_code=status_code)
    response.headers.update(headers or {})
    return _with_login_csrf(request, response, token)


login_page = _login_page


def _client(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    trusted = trusted_networks(settings_of(request).trusted_proxies)
    return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def _device(request: Request, email: str) -> Device | None:
    secrets_ = secret_material(settings_of(request))
    return device_for(secrets_, request.cookies.get(DEVICE_COOKIE), email)


def _gates(
    request: Request, email: str, accounts: list[Account], device: Device | None
) -> tuple[Gate, ...]:
    return gates_for(
        email=email,
        address=_client(request),
        accounts=[a.user_id for a in accounts],
        device=device.nonce if device else None,
        device_accounts=device.accounts if device else (),
        limit=settings_of(request).login_attempts_per_15_minutes,
    )


async def _signed_in(request: Request, session: AsyncSession, user: User, target: str) -> Response:
    """Start the session; the browser's device cookie is bound to this account too."""
    settings = settings_of(request)
    known = _device(request, user.email)
    value = await start_web_session(session, user, settings)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, value, settings)
    response.set_cookie(
        DEVICE_COOKIE,
        issue_device(secret_material(settings), user.email, [user.id], known),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/login",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


signed_in_response = _signed_in


def _chooser(
    request: Request, opened: list[Opened], *, email: str, next_url: str, csrf: str
) -> Response:
    """Which firm: only the accounts the password opened are listed."""
    payload = "\n".join([csrf, email, ",".join(str(o.user_id) for o in opened)])
    choice = sign(secret_material(settings_of(request)), CHOICE_PURPOSE, payload,
                  max_age=CHOICE_SECONDS)  # fmt: skip
    context = {"accounts": opened, "choice": choice, "login_csrf": csrf, "next_url": next_url}
    return _with_login_csrf(request, render(request, "login_choose.html", context), csrf)


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
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not tokens_match(csrf_token, csrf):
        return _login_page(
            request, next_url=target, email=address, status_code=403,
            error="The sign-in form expired. Please try again.",
        )  # fmt: skip
    refused = _login_page(
        request, next_url=target, email=address, status_code=401,
        error="That email and password do not match an active account.",
    )  # fmt: skip
    if not plausible_sign_in_email(address):
        return refused
    now, accounts = utcnow(), await accounts_of(session, address)
    sso_only = await password_refused(session, [(a.user_id, a.firm_id) for a in accounts])
    accounts = [a for a in accounts if a.user_id not in sso_only]
    # Whether SSO is required is told by the address's domain alone (the sign-in page's
    # discovery tells it anyway): every address of such a domain that a password does not
    # open gets the same page, so no answer tells whether an account exists (break-glass
    # included); an SSO-only account under another domain is refused like any other.
    sso_domain = await domain_requires_sso(session, address)
    sso_page = _login_page(
        request, next_url=target, email=address, status_code=403, sso_only=True,
        error="Your firm signs in with its own account: local passwords are turned off "
        "for it. Use \"Sign in with your firm's account\".",
    )  # fmt: skip
    if sso_domain and not accounts:
        return sso_page
    admitted = await admit(session, _gates(request, address, accounts, _device(request, address)),
                           now)  # fmt: skip
    opened = []
    if admitted.gates:
        opened = await accounts_opened(session, accounts, admitted.accounts, password)
    if not opened and admitted.locked_until is not None:  # an account was not checked
        wait = seconds_until(admitted.locked_until, now)
        return _login_page(
            request, next_url=target, email=address, status_code=429,
            error=f"Too many sign-in attempts. Try again in {-(-wait // 60)} minutes.",
            headers={"Retry-After": str(wait)},
        )  # fmt: skip
    if not opened:
        return sso_page if sso_domain else refused
    await take_back(session, admitted, [o.user_id for o in opened], now)
    if len(opened) > 1:
        await session.commit()  # the attempt taken back and a rehashed password are kept
        return _chooser(request, opened, email=address, next_url=target, csrf=csrf)
    user = await signed_in_user(session, opened[0].user_id, opened[0].firm_id)
    return await _signed_in(request, session, user, target)


@router.post("/login/choose")
async def choose_firm(
    request: Request,
    session: SessionDep,
    choice: Annotated[str, Form()],
    user_id: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """The firm picked on the chooser: the signed choice proves the password opened it."""
    target = _safe_next(next)
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    payload = unsign(secret_material(settings_of(request)), CHOICE_PURPOSE, choice)
    parts = payload.split("\n") if payload else []
    if not tokens_match(csrf_token, csrf) or len(parts) != 3 or parts[0] != csrf:
        return _login_page(
            request, next_url=target, status_code=403,
            error="The sign-in form expired. Please sign in again.",
        )  # fmt: skip
    _, email, allowed = parts
    user = None
    if user_id in allowed.split(","):
        user = await active_user(session, uuid.UUID(user_id), email)
    if user is None:
        return _login_page(
            request, next_url=target, email=email, status_code=401,
            error="That account is no longer active. Please sign in again.",
        )  # fmt: skip
    return await _signed_in(request, session, user, target)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    await end_web_session(session, signed.session_id)
    response = RedirectResponse("/login?done=signed-out", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response
