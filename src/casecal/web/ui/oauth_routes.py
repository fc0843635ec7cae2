"""The OAuth redirect endpoints: a provider's callback after a case manager authorised (or
not), and Microsoft's admin-consent callback. Success redirects to ``/calendar-sync`` with a
``flash`` parameter; a refusal renders a short page saying what happened and what to do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from casecal.auth.states import OAuthRefused, browser_binding
from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.connect import complete_connect
from casecal.services.consents import complete_admin_consent
from casecal.store.tables import ProviderName, User, WebSession, utcnow
from casecal.sync.connector import ConnectionProviders

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
TITLES = {
    "awaiting_consent": "Approval required",
    "identity_mismatch": "That was not your account",
    "scope_missing": "Calendar access was not granted",
    "refused": "Sign-in refused",
}


@dataclass(frozen=True)
class Browser:
    """The signed-in browser: its user and its binding for OAuth state."""

    actor: Actor
    binding: str


async def signed_in_browser(request: Request) -> Browser | None:
    """The browser's CaseCal session from the session cookie (SHA-256 of the cookie is the
    ``WebSession`` id), or None. The one place to swap for the UI's ``current_web_session``."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(settings.session_cookie_name, "")
    if not cookie:
        return None
    async with request.app.state.sessionmaker() as session:
        web = await session.get(WebSession, hashlib.sha256(cookie.encode()).hexdigest())
        if web is None or web.expires_at <= utcnow():
            return None
        user = await session.get(User, web.user_id)
        if user is None or not user.is_active:
            return None
        return Browser(Actor.of(user), browser_binding(web.id))


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


def explain(kind: str, message: str, consent_url: str | None = None, status: int = 400) -> Response:
    html = _templates.get_template("oauth/explain.html").render(
        title=TITLES.get(kind, "Sign-in refused"),
        kind=kind,
        message=message,
        consent_url=consent_url,
    )
    return HTMLResponse(html, status_code=status)


def _not_signed_in() -> Response:
    return explain(
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
                "awaiting_consent",
                "Thank you: Microsoft recorded your consent for CaseCal. The case managers "
                "waiting on it can now finish connecting with Modify.",
                status=200,
            )
        return _not_signed_in()
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
            return explain("refused", exc.detail)
    return RedirectResponse(f"/calendar-sync?flash=consent_recorded&message={quote(message)}", 303)


@router.get("/oauth/{provider}/callback")
async def provider_callback(
    request: Request, provider: str, browser: BrowserDep, http: HttpDep
) -> Response:
    try:
        name = ProviderName(provider)
    except ValueError:
        return explain("refused", "Unknown calendar provider.", status=404)
    if browser is None:
        return _not_signed_in()
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
    if outcome.kind == "choose_calendar":
        return RedirectResponse(
            f"/calendar-sync?flash=connected&connection={outcome.connection_id}", 303
        )
    status = 200 if outcome.kind == "awaiting_consent" else 400
    return explain(outcome.kind, outcome.message, outcome.consent_url, status)


__all__ = ["Browser", "router", "signed_in_browser"]
