"""The Jinja2 environment of the UI and one ``render`` helper that adds what every page needs."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from casecal.web.ui.connection_states import ACTION_LABELS, ACTION_PATHS
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
    "awaiting-approval": "Your calendar is authorised. It starts syncing as soon as an admin "
    "approves the connection.",
    "synced": "Sync finished.",
    "confirmed": "Deletions confirmed; sync resumes.",
    "disconnected": "Calendar disconnected.",
    "restored": "The other version is restored; the next sync carries it out.",
    "signed-out": "You are signed out.",
    "consent_recorded": "Admin consent recorded. The waiting case managers were told to finish "
    "with Modify.",
    "connected-again": "Your account is authorised again.",
    "cleaned-up": "The events CaseCal created in that calendar were removed; the person's own "
    "events stay.",
    "cleanup-confirm": "That clean-up would remove many events: confirm it on the case "
    "manager's row to go ahead.",
    "cleanup-failed": "The clean-up could not finish; the calendar's sync log says why. Try "
    "again later.",
    "settings-saved": "Your settings are saved.",
    "password-set": "Your password is set. Sign in with it.",
    "approval-requested": "Your firm admins were asked for approval, with the consent link. "
    "You will be told here and by email once it is granted.",
}
"""One-shot notices a redirect asks for with ``?done=<key>`` (never free text from a URL)."""


def local_time(value: datetime | None, zone: str, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
    """A stored UTC instant as the viewer reads it: in their zone, never a raw ISO string."""
    if value is None:
        return "never"
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime(fmt)


@pass_context
def _when(context: Context, value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
    """``{{ row.created_at|when }}``: the instant in the signed-in viewer's zone (``viewer_zone``
    in the page context; UTC on pages nobody is signed in to)."""
    return local_time(value, str(context.get("viewer_zone") or "UTC"), fmt)


@cache
def templates() -> Jinja2Templates:
    built = Jinja2Templates(directory=str(TEMPLATES_DIR))
    built.env.filters["when"] = _when
    built.env.globals["action_labels"] = ACTION_LABELS
    built.env.globals["action_paths"] = ACTION_PATHS
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
        "viewer_zone": signed.user.time_zone if signed else "UTC",
        "notice": NOTICES.get(
            request.query_params.get("done") or request.query_params.get("flash", ""), ""
        ),
        "error": "",
    }
    values |= context or {}
    response: HTMLResponse = templates().TemplateResponse(
        request, name, values, status_code=status_code
    )
    return response  # security headers: casecal.web.middleware, on every response
