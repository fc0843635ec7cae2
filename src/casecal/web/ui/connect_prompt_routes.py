"""The connect prompt after a single sign-on: the page that offers the calendar of the person's
identity provider first (Connect, or "Not now"), and its two forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.states import browser_binding
from casecal.errors import DomainError
from casecal.services import connect as svc
from casecal.services.connect_prompt import not_now, prompt_page
from casecal.store.tables import ProviderName
from casecal.web.deps import SessionDep
from casecal.web.ui.oauth_routes import shared_http
from casecal.web.ui.prompt_reasons import PROMPT_COOKIE, PROMPT_PAGE, Reason, landing_url
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, settings_of
from casecal.web.ui.sync_routes import PAGE, refused
from casecal.web.ui.templating import render

router = APIRouter()

NAMES = {"microsoft": "Microsoft 365", "google": "Google Calendar"}
"""How the prompt names each provider ("Connect Microsoft 365")."""


def not_now_reason(days: int) -> Reason:
    span = "day" if days == 1 else f"{days} days"
    return Reason(
        f"Not now: CaseCal will not ask you to connect your calendar when you sign in for the "
        f"next {span}. You can connect it here whenever you are ready.",
        is_error=False,
    )


@router.get(PROMPT_PAGE)
async def connect_prompt(
    request: Request, session: SessionDep, signed: CurrentWebSession
) -> Response:
    prompt = await prompt_page(session, signed.actor)
    if prompt is None:  # nothing to connect (no seat, a calendar already, no provider allowed)
        return RedirectResponse(PAGE, status_code=303)
    context = {
        "prompt": prompt,
        "names": NAMES,
        "heading": f"Connect {NAMES[prompt.preselected]}"
        if prompt.preselected
        else "Connect your calendar",
    }
    return render(request, "connect_prompt.html", context, signed=signed)


@router.post(f"{PROMPT_PAGE}/connect")
async def connect_from_prompt(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    provider: Annotated[ProviderName, Form()],
) -> Response:
    """As Calendar Sync's Connect; a failure at the provider then lands on Calendar Sync with
    the reason (the prompt's cookie tells the callback)."""
    settings = settings_of(request)
    try:
        url = await svc.start_connect(
            session, settings, signed.actor, provider,
            browser_binding=browser_binding(signed.session_id), http=shared_http(request),
        )  # fmt: skip
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(PROMPT_COOKIE, "1", max_age=600, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/oauth")  # fmt: skip
    return response


@router.post(f"{PROMPT_PAGE}/not-now")
async def decline(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    try:
        days = await not_now(session, signed.actor)
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    target = landing_url(settings_of(request), signed.user.id, not_now_reason(days))
    return RedirectResponse(target, status_code=303)
