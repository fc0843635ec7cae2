"""What the identity endpoints answer with: the JSON error body of the token endpoint, the
HTML error and sign-in pages, and redirects back to the client."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse

from casecal.emulators.microsoft.consent import IdentityError
from casecal.emulators.microsoft.urls import base_url


def error_json(exc: IdentityError, base: str) -> JSONResponse:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body: dict[str, Any] = {
        "error": exc.error,
        "error_description": f"{exc.description}\r\nTrace ID: {trace}\r\nCorrelation ID: "
        f"{correlation}\r\nTimestamp: {now}",
        "error_codes": [exc.code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"{base}error?code={exc.code}",
    }
    if exc.suberror:
        body["suberror"] = exc.suberror
    return JSONResponse(body, status_code=exc.status)


def error_page(exc: IdentityError) -> HTMLResponse:
    text = html.escape(exc.description)
    return HTMLResponse(
        f"<!doctype html><title>Sign in</title><h1>Sorry, but we're having trouble signing you "
        f"in.</h1><p id='error'>{text}</p>",
        status_code=400,
    )


def redirect(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


def sign_in_page(
    request: Request, params: dict[str, str], upns: list[str], title: str
) -> HTMLResponse:
    """The account picker and consent prompt; it posts back to the same endpoint."""
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in params.items()
        if k not in ("login_hint", "username", "decision")
    )
    users = "".join(f"<option value='{html.escape(upn)}'>" for upn in upns)
    hint = html.escape(params.get("login_hint", ""))
    action = base_url(request.scope) + request.scope["path"].lstrip("/")
    return HTMLResponse(
        f"<!doctype html><title>{title}</title><h1>{title}</h1>"
        f"<form method='post' action='{html.escape(action)}'>{hidden}"
        f"<label>Account <input name='username' list='users' value='{hint}'></label>"
        f"<datalist id='users'>{users}</datalist>"
        f"<p>The application <b>{html.escape(params.get('client_id', ''))}</b> asks for: "
        f"{html.escape(params.get('scope', '(admin consent)'))}</p>"
        "<button name='decision' value='accept'>Accept</button> "
        "<button name='decision' value='cancel'>Cancel</button></form>"
    )
