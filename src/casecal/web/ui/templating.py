"""The Jinja2 environment of the UI and one ``render`` helper that adds what every page needs."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from casecal.web.ui.session import SignedIn

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


NOTICES = {
    "subscribed": "Calendar Sync requested. Activate it to let case managers connect.",
    "activated": "Calendar Sync is active.",
    "cancelled": "Calendar Sync is cancelled.",
    "seat-added": "Seat added.",
    "seat-removed": "Seat removed.",
    "connected": "Your calendar is connected. The first sync is under way.",
    "synced": "Sync finished.",
    "confirmed": "Deletions confirmed; sync resumes.",
    "disconnected": "Calendar disconnected.",
    "restored": "The other version is restored; the next sync carries it out.",
    "signed-out": "You are signed out.",
    "consent_recorded": "Admin consent recorded. The waiting case managers were told to finish "
    "with Modify.",
    "connected-again": "Your account is authorised again.",
}
"""One-shot notices a redirect asks for with ``?done=<key>`` (never free text from a URL)."""


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Pages are never framed (clickjacking), load only CaseCal's own files and are not cached."""


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return value.strftime(fmt) if value is not None else "never"


@cache
def templates() -> Jinja2Templates:
    built = Jinja2Templates(directory=str(TEMPLATES_DIR))
    built.env.filters["when"] = _when
    return built


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    signed: SignedIn | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` with the signed-in user, the CSRF token and a one-shot notice."""
    values: dict[str, Any] = {
        "user": signed.user if signed else None,
        "is_admin": signed.is_admin if signed else False,
        "csrf_token": signed.csrf_token if signed else "",
        "notice": NOTICES.get(
            request.query_params.get("done") or request.query_params.get("flash", ""), ""
        ),
        "error": "",
    }
    values |= context or {}
    response: HTMLResponse = templates().TemplateResponse(
        request, name, values, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response
