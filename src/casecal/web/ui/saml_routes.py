"""SAML sign-in pages: the start (from "Sign in with your firm's account" when the email's
domain leads to a SAML firm), the firm's assertion consumer service (HTTP-POST binding),
CaseCal's SP metadata for the IdP, and the SAML part of Setup > Single sign-on."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.sso import SsoRefused, browser_binding, redirect_uri
from casecal.domain.saml import MAX_RESPONSE_BYTES
from casecal.domain.sso import SsoKind
from casecal.errors import DomainError
from casecal.services.connect_prompt import after_sso_sign_in
from casecal.services.saml import (
    SamlInput,
    SamlView,
    complete_saml_sign_in,
    read_saml,
    save_saml_config,
    sp_metadata,
    start_saml_sign_in,
)
from casecal.services.sign_in import signed_in_user
from casecal.services.sso import SsoView, read_config
from casecal.store.sso_tables import SsoConfig
from casecal.web.body_limit import BodyTooLarge, read_bounded
from casecal.web.deps import SessionDep
from casecal.web.ui.auth_routes import safe_next, signed_in_response
from casecal.web.ui.prompt_reasons import PROMPT_PAGE
from casecal.web.ui.session import CsrfChecked, SignedIn, settings_of
from casecal.web.ui.templating import render

router = APIRouter()

SAML_COOKIE = "casecal_saml"
COOKIE_PATH = "/sso/saml"
PAGE = "/single-sign-on"
_BODY_LIMIT = MAX_RESPONSE_BYTES + 16 * 1024
"""The ACS form: the SAMLResponse and a RelayState."""


def _refused_page(request: Request, message: str, status_code: int = 403) -> Response:
    context = {"heading": "Sign-in refused", "message": message,
               "back": ("/login", "Back to sign in")}  # fmt: skip
    response = render(request, "ui_problem.html", context, status_code=status_code)
    response.delete_cookie(SAML_COOKIE, path=COOKIE_PATH)
    return response


async def start_saml(
    request: Request, session: SessionDep, config: SsoConfig, *, next_url: str
) -> Response:
    """Send the browser to the firm's IdP with a new AuthnRequest bound to it by a cookie.
    The IdP answers with a cross-site POST, so over https the cookie is SameSite=None."""
    cookie = secrets.token_urlsafe(32)
    settings = settings_of(request)
    try:
        url = await start_saml_sign_in(
            session, settings, config, binding=browser_binding(cookie), next_url=next_url
        )
    except SsoRefused as exc:
        return _refused_page(request, exc.detail, status_code=502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        SAML_COOKIE, cookie, max_age=600, httponly=True,
        samesite="none" if settings.cookie_secure else "lax",
        secure=settings.cookie_secure, path=COOKIE_PATH,
    )  # fmt: skip
    return response


def _firm(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.get("/sso/saml/{firm}/metadata")
async def saml_metadata(request: Request, session: SessionDep, firm: str) -> Response:
    """CaseCal's SP metadata for the firm, for its admin to give the IdP."""
    firm_id = _firm(firm)
    xml = await sp_metadata(session, settings_of(request), firm_id) if firm_id else None
    if xml is None:
        return Response("no such firm\n", status_code=404, media_type="text/plain")
    return Response(xml, media_type="application/samlmetadata+xml")


@router.post("/sso/saml/{firm}/acs")
async def saml_acs(request: Request, session: SessionDep, firm: str) -> Response:
    """The IdP's answer (HTTP-POST binding): signed in (then, as after any SSO sign-in, the
    connect prompt when the firm's settings ask for it), or a page saying why not."""
    firm_id = _firm(firm)
    if firm_id is None:
        return _refused_page(request, "This is not a CaseCal sign-in address.", status_code=404)
    try:
        body = await read_bounded(request, _BODY_LIMIT)
    except BodyTooLarge:
        return _refused_page(request, "The sign-in answer is too large.", status_code=413)
    try:
        form = parse_qs(body.decode("ascii"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        form = {}
    saml_response = (form.get("SAMLResponse") or [""])[0]
    cookie = request.cookies.get(SAML_COOKIE, "")
    try:
        done = await complete_saml_sign_in(
            session, settings_of(request), firm_id, saml_response,
            binding=browser_binding(cookie) if cookie else "",
        )  # fmt: skip
    except SsoRefused as exc:
        return _refused_page(request, exc.detail)
    user = await signed_in_user(session, done.user_id, done.firm_id)
    prompt = await after_sso_sign_in(session, user.firm_id, user.id, provisioned=done.provisioned)
    target = PROMPT_PAGE if prompt is not None else safe_next(done.next_url)
    response = await signed_in_response(request, session, user, target)
    response.delete_cookie(SAML_COOKIE, path=COOKIE_PATH)
    return response


async def saml_context(
    request: Request, session: SessionDep, signed: SignedIn, typed: SamlView | None = None
) -> dict[str, object]:
    """The SAML part of Setup > Single sign-on (admins only; the page shows the refusal
    otherwise)."""
    try:
        stored = await read_saml(session, settings_of(request), signed.actor)
    except DomainError:
        return {}
    return {"saml": typed or stored}


@router.post(PAGE + "/saml")
async def save_saml(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    given = SamlInput(
        metadata_url=text("metadata_url"),
        metadata_xml=text("metadata_xml"),
        email_attribute=text("email_attribute"),
        domains=text("domains"),
        enabled=text("enabled") == "on",
        allow_provisioning=text("allow_provisioning") == "on",
        group_attribute=text("group_attribute"),
        require_sso=text("require_sso") == "on",
        break_glass_email=text("break_glass_email"),
    )
    settings = settings_of(request)
    try:
        await save_saml_config(session, request.app.state.http, settings, signed.actor, given)
    except DomainError as exc:
        await session.rollback()
        return await _page_with_error(request, session, signed, given, exc)
    return RedirectResponse(PAGE + "?done=sso-saved", status_code=303)


async def _page_with_error(
    request: Request, session: SessionDep, signed: SignedIn, given: SamlInput, exc: DomainError
) -> Response:
    try:
        stored = await read_config(session, signed.actor)
        saml = await read_saml(session, settings_of(request), signed.actor)
    except DomainError as denied:
        return render(request, "sso_admin.html", {"error": denied.detail}, signed=signed,
                      status_code=denied.status_code)  # fmt: skip
    view = SsoView(
        kind=SsoKind.SAML.value, domains=given.domains, enabled=given.enabled,
        allow_provisioning=given.allow_provisioning, group_claim=given.group_attribute,
        require_sso=given.require_sso, break_glass_email=given.break_glass_email,
        configured=stored.configured,
    )  # fmt: skip
    typed = SamlView(
        sp_entity_id=saml.sp_entity_id, acs_url=saml.acs_url,
        metadata_url_of_sp=saml.metadata_url_of_sp, idp_entity_id=saml.idp_entity_id,
        metadata_url=given.metadata_url, metadata_xml=given.metadata_xml,
        email_attribute=given.email_attribute,
    )  # fmt: skip
    context: dict[str, object] = {
        "sso": view,
        "kinds": list(SsoKind),
        "redirect_uri": redirect_uri(settings_of(request)),
        "saml": typed,
        "saml_error": exc.detail,
    }
    return render(request, "sso_admin.html", context, signed=signed, status_code=exc.status_code)
