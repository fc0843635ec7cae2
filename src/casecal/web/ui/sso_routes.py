"""SSO pages: "Sign in with your firm's account" (the email's domain leads to the firm's identity
provider), the provider's callback, and Setup > Single sign-on where a firm admin configures
it."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.sso import SsoRefused, browser_binding, redirect_uri
from casecal.domain.sso import SsoKind
from casecal.errors import DomainError
from casecal.services.connect_prompt import after_sso_sign_in
from casecal.services.sign_in import signed_in_user
from casecal.services.sso import (
    SsoInput,
    SsoView,
    complete_sign_in,
    config_for_email,
    read_config,
    save_config,
    start_sign_in,
)
from casecal.web.deps import SessionDep
from casecal.web.ui import saml_routes
from casecal.web.ui.auth_routes import login_page, safe_next, signed_in_response
from casecal.web.ui.prompt_reasons import PROMPT_PAGE
from casecal.web.ui.session import (
    LOGIN_CSRF_COOKIE,
    CsrfChecked,
    CurrentWebSession,
    SignedIn,
    settings_of,
    tokens_match,
)
from casecal.web.ui.templating import render

router = APIRouter()
router.include_router(saml_routes.router)

SSO_COOKIE = "casecal_sso"
PAGE = "/single-sign-on"


def _refused_page(request: Request, message: str, status_code: int = 403) -> Response:
    context = {"heading": "Sign-in refused", "message": message,
               "back": ("/login", "Back to sign in")}  # fmt: skip
    response = render(request, "ui_problem.html", context, status_code=status_code)
    response.delete_cookie(SSO_COOKIE, path="/sso")
    return response


@router.post("/login/sso")
async def sign_in_with_firm(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """The email's domain leads to its firm's identity provider, or back to the password."""
    target = safe_next(next)
    address = email.strip().lower()
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return login_page(request, next_url=target, email=address, status_code=403,
                          error="The sign-in form expired. Please try again.")  # fmt: skip
    config = await config_for_email(session, address)
    if config is None:
        return login_page(
            request, next_url=target, email=address, status_code=404,
            error="Your email's domain does not sign in to CaseCal through a firm account. "
            "Sign in with your email and password below.",
        )  # fmt: skip
    if config.kind == SsoKind.SAML:
        return await saml_routes.start_saml(request, session, config, next_url=target)
    cookie = secrets.token_urlsafe(32)
    settings = settings_of(request)
    try:
        url = await start_sign_in(
            session, request.app.state.http, settings, config,
            email=address, binding=browser_binding(cookie), next_url=target,
        )  # fmt: skip
    except SsoRefused as exc:
        return _refused_page(request, exc.detail, status_code=502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(SSO_COOKIE, cookie, max_age=600, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/sso")  # fmt: skip
    return response


@router.get("/sso/callback")
async def sso_callback(request: Request, session: SessionDep) -> Response:
    """The identity provider's answer: signed in, or a page saying why not."""
    cookie = request.cookies.get(SSO_COOKIE, "")
    params = dict(request.query_params)
    try:
        done = await complete_sign_in(
            session, request.app.state.http, settings_of(request), params,
            binding=browser_binding(cookie) if cookie else "",
        )  # fmt: skip
    except SsoRefused as exc:
        return _refused_page(request, exc.detail)
    user = await signed_in_user(session, done.user_id, done.firm_id)
    prompt = await after_sso_sign_in(session, user.firm_id, user.id, provisioned=done.provisioned)
    target = PROMPT_PAGE if prompt is not None else safe_next(done.next_url)
    response = await signed_in_response(request, session, user, target)
    response.delete_cookie(SSO_COOKIE, path="/sso")
    return response


def _form_context(view: SsoView, request: Request) -> dict[str, object]:
    return {
        "sso": view,
        "kinds": list(SsoKind),
        "redirect_uri": redirect_uri(settings_of(request)),
    }


@router.get(PAGE)
async def sso_page(request: Request, session: SessionDep, signed: CurrentWebSession) -> Response:
    return await _page(request, session, signed)


async def _page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    *,
    view: SsoView | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    try:
        stored = await read_config(session, signed.actor)
    except DomainError as exc:
        return render(request, "sso_admin.html", {"error": exc.detail}, signed=signed,
                      status_code=exc.status_code)  # fmt: skip
    context = _form_context(view or stored, request) | {"error": error}
    context |= await saml_routes.saml_context(request, session, signed)
    if request.query_params.get("done") == "sso-saved":
        context["notice"] = "Single sign-on saved."
    return render(request, "sso_admin.html", context, signed=signed, status_code=status_code)


@router.post(PAGE)
async def save_sso(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    given = SsoInput(
        kind=text("kind"),
        client_id=text("client_id"),
        client_secret=text("client_secret"),
        issuer=text("issuer"),
        tenants=text("tenants"),
        domains=text("domains"),
        enabled=text("enabled") == "on",
        allow_provisioning=text("allow_provisioning") == "on",
        group_claim=text("group_claim"),
        require_sso=text("require_sso") == "on",
        break_glass_email=text("break_glass_email"),
    )
    try:
        await save_config(session, settings_of(request), signed.actor, given)
    except DomainError as exc:
        await session.rollback()
        typed = SsoView(
            kind=given.kind, client_id=given.client_id, issuer=given.issuer,
            tenants=given.tenants, domains=given.domains, enabled=given.enabled,
            allow_provisioning=given.allow_provisioning, group_claim=given.group_claim,
            require_sso=given.require_sso, break_glass_email=given.break_glass_email,
        )  # fmt: skip
        return await _page(request, session, signed, view=typed, error=exc.detail,
                           status_code=exc.status_code)  # fmt: skip
    return RedirectResponse(PAGE + "?done=sso-saved", status_code=303)
