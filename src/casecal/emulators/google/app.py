"""GoogleEmulator: the composition root. One ASGI app serving Google OAuth, Calendar v3, the
batch endpoint, the /_emulator admin surface and the HTML view, plus the Python API."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..faults import FaultInjector, FaultMiddleware
from ..keys import SigningKey
from ..requestlog import RequestLog, RequestLogMiddleware
from . import calendar_api, control, oauth, view
from .batch import BatchEndpoint
from .clock import Clock
from .context import Context, RateBudget, strip_root
from .errors import ApiError, api_error_response, error_body, render
from .listing import Cursors
from .meetings import SentMessage
from .push import Delivery, Notifier
from .state import Account, State
from .tokens import INSTALLED, WITHDRAWN, Client, OAuthState, normalize_scopes

DEFAULT_ISSUER = "http://testserver"


class _RootPath:
    """Outermost layer: paths relative to the mount prefix for everything below."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = strip_root(dict(scope))
        await self.app(scope, receive, send)


class GoogleEmulator:
    """A stateful, strict Google Calendar v3 + Google OAuth server.

    See docs/emulators/google.md for the rules it enforces and its admin surface."""

    def __init__(
        self, seed: int = 0, notifier_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.clock = Clock()
        self.key = SigningKey()
        self.faults = FaultInjector(seed)
        self.log = RequestLog()
        self.state = State(self.clock)
        self.oauth = OAuthState(self.clock, self.key, self.state.accounts)
        self.notifier = Notifier(self.clock, notifier_transport)
        self.state.on_change = self.notifier.changed
        self.ctx = Context(
            self.clock, self.state, self.oauth, Cursors(), self.notifier, self.faults,
            self.log, self.key,
        )  # fmt: skip
        batch = BatchEndpoint(random.Random(seed))
        router = Starlette(
            routes=[
                *oauth.routes(self.ctx),
                *calendar_api.routes(self.ctx),
                Route("/batch/calendar/v3", batch.handle, methods=["POST"]),
                *control.routes(self),
                *view.routes(self.ctx),
            ],
            exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        )
        stack: ASGIApp = FaultMiddleware(router, self.faults, render, self._account_of)
        stack = RequestLogMiddleware(stack, self.log, self._account_of)
        batch.app = stack
        self.app: ASGIApp = _RootPath(stack)

    # -- switches ----------------------------------------------------------------------------
    @property
    def auto_approve(self) -> bool:
        """Approve authorize requests for a known ``login_hint`` without showing the page."""
        return self.ctx.auto_approve

    @auto_approve.setter
    def auto_approve(self, value: bool) -> None:
        self.ctx.auto_approve = value

    @property
    def declined_scopes(self) -> set[str]:
        """Scopes the automated user unticks (granular consent) when auto-approving."""
        return self.ctx.declined_scopes

    @declined_scopes.setter
    def declined_scopes(self, value: set[str]) -> None:
        self.ctx.declined_scopes = set(normalize_scopes(" ".join(value)) or value)

    # -- accounts, calendars, clients, tokens ------------------------------------------------
    def add_account(
        self,
        email: str,
        name: str = "",
        sub: str | None = None,
        *,
        hosted_domain: str = "",
        email_verified: bool = True,
        is_admin: bool = False,
    ) -> Account:
        """An account; ``hosted_domain`` makes it a Google Workspace account (the ``hd``
        claim), ``email_verified=False`` an address Google has not verified."""
        sub = sub or str(uuid.UUID(int=random.Random(email).getrandbits(128)).int)[:21]
        return self.state.add_account(
            email, name or email.split("@")[0], sub, hosted_domain, email_verified, is_admin
        )

    def add_calendar(
        self, email: str, summary: str, access_role: str = "owner", time_zone: str = "UTC"
    ) -> str:
        return self.state.add_calendar(email, summary, access_role, time_zone)

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str], *, testing: bool = False
    ) -> Client:
        client = Client(client_id, client_secret, list(redirect_uris), testing)
        self.oauth.clients[client_id] = client
        return client

    def issue_tokens(
        self, email: str, client_id: str, scopes: list[str] | str, *, issuer: str = DEFAULT_ISSUER
    ) -> dict[str, Any]:
        """Tokens as the token endpoint would return them, without the browser step."""
        if email not in self.state.accounts or client_id not in self.oauth.clients:
            raise ValueError("unknown account or client")
        wanted = normalize_scopes(scopes if isinstance(scopes, str) else " ".join(scopes))
        if not wanted:
            raise ValueError(f"unknown scope in {scopes!r}")
        return self.oauth.issue(email, client_id, wanted, issuer)

    def revoke(self, token: str) -> bool:
        """Revoke the grant behind ``token`` (as the user removing the app's access)."""
        return self.oauth.revoke(token)

    def expire_access_tokens(self, email: str | None = None) -> None:
        self.oauth.expire_access_tokens(email)

    def install_app(self, domain: str, client_id: str) -> None:
        """A super administrator installs the app for the whole Workspace domain (Marketplace
        admin install): the domain's users are not shown a consent screen for it."""
        self.oauth.installs[(domain.lower(), client_id)] = INSTALLED

    def withdraw_install(self, domain: str, client_id: str) -> None:
        """The domain's administrator removes the app and blocks it: the domain's users' access
        tokens for it stop working, refreshing them answers ``admin_policy_enforced``, and
        signing in to it is refused the same way."""
        self.oauth.installs[(domain.lower(), client_id)] = WITHDRAWN
        for email, account in self.state.accounts.items():
            if account.hosted_domain.lower() == domain.lower():
                self.oauth.expire_access_tokens(email, client_id)

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        self.state.expire_sync_tokens(calendar_id)

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (token, code and channel expiry)."""
        self.clock.advance(seconds)

    def set_rate_budget(self, email: str, limit: int | None, window: float = 60.0) -> None:
        """At most ``limit`` API calls per ``window`` seconds for the account (None: no limit);
        beyond it: 403 usageLimits/userRateLimitExceeded."""
        if limit is None:
            self.ctx.budgets.pop(email, None)
        else:
            self.ctx.budgets[email] = RateBudget(limit, window)

    def purge_tombstones(self, calendar_id: str) -> int:
        return self.state.purge_tombstones(calendar_id)

    # -- calendar content, and edits "by another client" ---------------------------------------
    def events(self, calendar_id: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        cal = self.state.calendars[calendar_id]
        return [
            dict(s.resource)
            for s in sorted(cal.events.values(), key=lambda s: s.seq)
            if include_deleted or s.resource["status"] != "cancelled"
        ]

    def client_insert(
        self, calendar_id: str, body: dict[str, Any], actor: str | None = None
    ) -> dict[str, Any]:
        cal = self.state.calendars[calendar_id]
        return self.state.insert(cal, body, actor or "other-client@example.com")

    def client_patch(self, calendar_id: str, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        cal = self.state.calendars[calendar_id]
        return self.state.write(cal, event_id, body, patch=True, if_match=None)

    def client_update(
        self, calendar_id: str, event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        cal = self.state.calendars[calendar_id]
        return self.state.write(cal, event_id, body, patch=False, if_match=None)

    def client_delete(self, calendar_id: str, event_id: str) -> None:
        self.state.delete(self.state.calendars[calendar_id], event_id, None)

    # -- push ----------------------------------------------------------------------------------
    async def flush_notifications(self) -> None:
        """Deliver every queued push notification now."""
        await self.notifier.flush()

    @property
    def deliveries(self) -> list[Delivery]:
        return self.notifier.deliveries

    def sent_messages(self) -> list[SentMessage]:
        """The guest mail Google would have sent so far (``meetings``)."""
        return list(self.state.sent_messages)

    def _account_of(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = self.oauth.tokens.get(value[7:].decode("latin-1").strip())
                return token.email if token else None
        return None


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(("/calendar/", "/batch/")):
        reason = "notFound" if exc.status_code == 404 else "badRequest"
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            error_body(exc.status_code, reason, message), status_code=exc.status_code
        )
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
