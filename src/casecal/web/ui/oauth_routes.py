"""The OAuth redirect endpoints: a provider's callback after a case manager authorised (or
not), and Microsoft's admin-consent callback. Success redirects to ``/calendar-sync`` with a
``flash`` parameter; anything else renders an app page (header, navigation) saying what
happened and offering the next step on the page itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.states import OAuthRefused, browser_binding
from casecal.services.access import Actor
from casecal.services.connect import ConnectOutcome, complete_connect
from casecal.services.consents import complete_admin_consent
from casecal.store.tables import ProviderName
from casecal.sync.connector import ConnectionProviders
from casecal.web.ui.prompt_reasons import PROMPT_COOKIE, failure, landing_url
from casecal.web.ui.session import SignedIn, load_signed_in
from casecal.web.ui.templating import render

router = APIRouter(include_in_schema=False)
TITLES = {
    "awaiting_consent": "Approval required",
    "consent_recorded": "Consent recorded",
    "identity_mismatch": "That was not your account",
    "scope_missing": "Calendar access was not granted",
    "refused": "Sign-in refused",
}
AWAITING_CONSENT = (
    "Your organisation lets only an administrator approve CaseCal's access to calendars, so "
    "nothing is connected yet. Nothing is wrong with your account: an administrator approves "
    "CaseCal once for everyone in your organisation."
)
"""The page's own words: the service's message points at Microsoft's page, which is gone."""


@dataclass(frozen=True)
class Browser:
    """The signed-in browser: its user and its binding for OAuth state."""

    signed: SignedIn

    @property
    def actor(self) -> Actor:
        return self.signed.actor

    @property
    def binding(self) -> str:
        return browser_binding(self.signed.session_id)


async def signed_in_browser(request: Request) -> Browser | None:
    """The browser's CaseCal session from the session cookie, or None."""
    async with request.app.state.sessionmaker() as session:
        signed = await load_signed_in(request, session)
    return Browser(signed) if signed is not None else None


def shared_http(request: Request) -> httpx.AsyncClient:
    """The application's shared HTTP client."""
    client = getattr(request.app.state, "http", None)
    if isinstance(client, httpx.AsyncClient):
        return client
    providers = request.app.state.sync_engine.provider_for
    if isinstance(providers, ConnectionProviders):
        return providers.client
    raise RuntimeError("no shared HTTP client on the application")


BrowserDep = Annotated[Browser | None, Depends(signed_in_browser)]
HttpDep = Annotated[httpx.AsyncClient, Depends(shared_http)]


def explain(
    request: Request,
    browser: Browser | None,
    kind: str,
    message: str,
    *,
    consent_url: str | None = None,
    connection_id: uuid.UUID | None = None,
    retry_provider: ProviderName | None = None,
    status: int = 400,
) -> Response:
    """The app's page saying what happened and offering, on the page itself, what to do next."""
    context = {
        "title": TITLES.get(kind, "Sign-in refused"),
        "kind": kind,
        "message": message,
        "consent_url": consent_url,
        "connection_id": connection_id,
        "retry_provider": retry_provider.value if retry_provider else "",
    }
    signed = browser.signed if browser is not None else None
    return render(request, "oauth/explain.html", context, signed=signed, status_code=status)


def _not_signed_in(request: Request) -> Response:
    return explain(
        request,
        None,
        "refused",
        "You are not signed in to CaseCal in this browser, so this answer cannot be accepted. "
        "Sign in and start again from Calendar Sync.",
        status=401,
    )


@router.get("/oauth/microsoft/adminconsent/callback")
async def admin_consent_callback(request: Request, browser: BrowserDep) -> Response:
    params = dict(request.query_params)
    if browser is None:
        if params.get("admin_consent", "").lower() == "true":
            return explain(
                request,
                None,
                "consent_recorded",
                "Thank you: Microsoft recorded your consent for CaseCal. The case managers "
                "waiting on it can now finish connecting with Modify.",
                status=200,
            )
        return _not_signed_in(request)
    async with request.app.state.sessionmaker() as session:
        try:
            message = await complete_admin_consent(
                session,
                request.app.state.settings,
                browser.actor,
                params,
                browser_binding=browser.binding,
            )
        except OAuthRefused as exc:
            return explain(request, browser, "refused", exc.detail)
    return RedirectResponse(f"/calendar-sync?flash=consent_recorded&message={quote(message)}", 303)


@router.get("/oauth/{provider}/callback")
async def provider_callback(
    request: Request, provider: str, browser: BrowserDep, http: HttpDep
) -> Response:
    try:
        name = ProviderName(provider)
    except ValueError:
        return explain(request, browser, "refused", "Unknown calendar provider.", status=404)
    if browser is None:
        return _not_signed_in(request)
    async with request.app.state.sessionmaker() as session:
        outcome = await complete_connect(
            session,
            request.app.state.settings,
            http,
            browser.actor,
            name,
            dict(request.query_params),
            browser_binding=browser.binding,
        )
    prompted = bool(request.cookies.get(PROMPT_COOKIE))
    if outcome.kind == "choose_calendar":
        done: Response = RedirectResponse(
            f"/calendar-sync?flash=connected&connection={outcome.connection_id}", 303
        )
    elif prompted and outcome.kind != "awaiting_consent":  # started from the connect prompt
        landing = landing_url(request.app.state.settings, browser.signed.user.id,
                              failure(outcome.message))  # fmt: skip
        done = RedirectResponse(landing, 303)
    else:
        done = _explained(request, browser, name, outcome)
    if prompted:
        done.delete_cookie(PROMPT_COOKIE, path="/oauth")
    return done


def _explained(
    request: Request, browser: Browser, name: ProviderName, outcome: ConnectOutcome
) -> Response:
    if outcome.kind == "awaiting_consent":
        return explain(
            request, browser, outcome.kind, AWAITING_CONSENT, consent_url=outcome.consent_url,
            connection_id=outcome.connection_id, status=200,
        )  # fmt: skip
    return explain(request, browser, outcome.kind, outcome.message,
                   connection_id=outcome.connection_id, retry_provider=name)  # fmt: skip


__all__ = ["Browser", "router", "signed_in_browser"]
