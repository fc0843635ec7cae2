"""Connecting a CalDAV calendar from the UI: the form (presets for iCloud, Fastmail and
Nextcloud with how to make an app password for each), then the same calendar choice as the
OAuth providers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.errors import DomainError
from casecal.services.caldav_connect import PRESETS, connect_caldav
from casecal.web.deps import SessionDep
from casecal.web.ui.oauth_routes import shared_http
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn, settings_of
from casecal.web.ui.sync_routes import PAGE, refused
from casecal.web.ui.templating import render

router = APIRouter()
CALDAV_PAGE = f"{PAGE}/caldav"


def _form(
    request: Request,
    signed: SignedIn,
    *,
    chosen: str = "icloud",
    server_url: str = "",
    username: str = "",
    modify: uuid.UUID | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "presets": PRESETS, "chosen": chosen, "server_url": server_url, "username": username,
        "modify": modify or "", "error": error,
    }  # fmt: skip
    return render(request, "caldav_connect.html", context, signed=signed, status_code=status_code)


@router.get(CALDAV_PAGE)
async def caldav_form(
    request: Request, signed: CurrentWebSession, modify: uuid.UUID | None = None
) -> Response:
    return _form(request, signed, modify=modify)


@router.post(CALDAV_PAGE)
async def caldav_connect(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    preset: Annotated[str, Form()],
    username: Annotated[str, Form()],
    app_password: Annotated[str, Form()],
    server_url: Annotated[str, Form()] = "",
    modify: Annotated[str, Form()] = "",
) -> Response:
    """The account is checked on the server before anything is kept; a refusal shows the
    form again with the reason (and without the password)."""
    try:
        connection_id = uuid.UUID(modify) if modify else None
    except ValueError:
        connection_id = None

    def again(error: str, status_code: int) -> Response:
        return _form(request, signed, chosen=preset, server_url=server_url, username=username,
                     modify=connection_id, error=error, status_code=status_code)  # fmt: skip

    try:
        outcome = await connect_caldav(
            session, settings_of(request), shared_http(request), signed.actor,
            preset=preset, server_url=server_url, username=username,
            app_password=app_password, connection_id=connection_id,
        )  # fmt: skip
    except DomainError as exc:
        if exc.status_code == 422:
            await session.rollback()
            return again(exc.detail, 422)
        return await refused(request, session, signed, exc)
    if outcome.kind != "choose_calendar" or outcome.connection_id is None:
        return again(outcome.message, 400)
    return RedirectResponse(
        f"{PAGE}?flash=connected&connection={outcome.connection_id}", status_code=303
    )
