"""The firm admin's consent for the whole firm on Google Workspace: Install for the domain
(a POST from Firm settings or Calendar Sync) and the Marketplace's return to CaseCal. The
Microsoft 365 equivalent posts to ``/calendar-sync/consents/organizations/grant``."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.states import OAuthRefused, browser_binding
from casecal.errors import DomainError
from casecal.services.consents import complete_google_install, start_google_install
from casecal.web.deps import SessionDep
from casecal.web.ui.oauth_routes import BrowserDep, _not_signed_in, explain
from casecal.web.ui.session import CsrfChecked, settings_of
from casecal.web.ui.sync_routes import refused

router = APIRouter()


@router.post("/calendar-sync/consents/google/install")
async def install_for_domain(
    request: Request, session: SessionDep, signed: CsrfChecked
) -> Response:
    """A firm admin who is their Workspace domain's super administrator installs CaseCal."""
    try:
        url = await start_google_install(
            session, settings_of(request), signed.actor,
            browser_binding=browser_binding(signed.session_id),
        )  # fmt: skip
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    return RedirectResponse(url, status_code=303)


@router.get("/oauth/google/install/callback")
async def install_callback(request: Request, browser: BrowserDep) -> Response:
    if browser is None:
        return _not_signed_in(request)
    async with request.app.state.sessionmaker() as session:
        try:
            message = await complete_google_install(
                session, request.app.state.settings, browser.actor, dict(request.query_params),
                browser_binding=browser.binding,
            )  # fmt: skip
        except OAuthRefused as exc:
            return explain(request, browser, "refused", exc.detail)
        except DomainError as exc:
            return explain(request, browser, "refused", exc.detail)
    return RedirectResponse(f"/calendar-sync?flash=consent_recorded&message={quote(message)}", 303)
