"""Connecting a calendar from the UI: Connect / Modify start the provider's authorisation,
the calendar choice (writable calendars, step reminders, backfill) activates the connection,
Disconnect ends it, and a firm admin starts Microsoft's tenant-wide consent from the panel."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.auth.states import browser_binding
from casecal.errors import DomainError
from casecal.providers.errors import ProviderError
from casecal.services import connect as svc
from casecal.services.approval_requests import request_approval
from casecal.services.approvals import tell_approvers
from casecal.services.connections import get_connection
from casecal.services.consents import start_admin_consent
from casecal.store.tables import Backfill, ConnectionStatus, ProviderName
from casecal.web.deps import SessionDep
from casecal.web.ui.oauth_routes import shared_http
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn, settings_of
from casecal.web.ui.sync_routes import PAGE, refused, run_form, sync_page
from casecal.web.ui.templating import render

log = structlog.get_logger(__name__)

router = APIRouter()

BACKFILL_CHOICES = (
    (Backfill.UPCOMING, "Existing entries as well",
     "CaseCal copies the entries you already have into this calendar (those from 30 days ago "
     "onwards; older ones stay in CaseCal only) and imports the events already in it. After "
     "that, changes sync both ways."),
    (Backfill.FROM_NOW_ON, "New and changed entries only",
     "Nothing already there is copied either way: only entries added or changed from now on "
     "are synced."),
)  # fmt: skip


async def _authorise(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    provider: ProviderName,
    connection_id: uuid.UUID | None = None,
) -> Response:
    if provider is ProviderName.CALDAV:  # no OAuth: its own form (caldav_routes)
        again = f"?modify={connection_id}" if connection_id is not None else ""
        return RedirectResponse(f"{PAGE}/caldav{again}", status_code=303)
    try:
        url = await svc.start_connect(
            session, settings_of(request), signed.actor, provider,
            browser_binding=browser_binding(signed.session_id), connection_id=connection_id,
            http=shared_http(request),
        )  # fmt: skip
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    return RedirectResponse(url, status_code=303)


@router.post(f"{PAGE}/connect")
async def connect(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    provider: Annotated[ProviderName, Form()],
) -> Response:
    return await _authorise(request, session, signed, provider)


@router.get(f"{PAGE}/connect/{{provider}}")
async def reauthorise_link(
    request: Request,
    session: SessionDep,
    signed: CurrentWebSession,
    provider: ProviderName,
    modify: uuid.UUID | None = None,
) -> Response:
    """The one-click link of the "you can finish now" and "re-authorise" emails."""
    if modify is None:
        return RedirectResponse(PAGE, status_code=303)
    return await _authorise(request, session, signed, provider, modify)


@router.post(f"{PAGE}/connections/{{connection_id}}/modify")
async def modify(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:
    try:
        row = await get_connection(session, signed.actor, connection_id)
    except DomainError as exc:
        return await sync_page(request, session, signed, error=exc.detail,
                               status_code=exc.status_code)  # fmt: skip
    return await _authorise(request, session, signed, row.provider, connection_id)


@router.get(f"{PAGE}/connections/{{connection_id}}/calendar")
async def choose_calendar(
    request: Request, session: SessionDep, signed: CurrentWebSession, connection_id: uuid.UUID
) -> Response:
    actor = signed.actor
    try:
        row = await get_connection(session, actor, connection_id)
        if row.refresh_token_enc is None:  # never authorised: the page offers Connect again
            return RedirectResponse(PAGE, status_code=303)
        calendars = await svc.writable_calendars(
            session, settings_of(request), shared_http(request), actor, connection_id
        )
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    chosen = row.calendar_id or next((c.id for c in calendars if c.primary), "")
    context = {"connection": row, "calendars": calendars, "chosen": chosen,
               "backfills": BACKFILL_CHOICES}  # fmt: skip
    return render(request, "choose_calendar.html", context, signed=signed)


def _calendar_choice(value: str) -> tuple[str, str]:
    try:
        chosen = json.loads(value)
        return str(chosen["id"]), str(chosen.get("name", ""))
    except (ValueError, TypeError, KeyError):
        return "", ""


async def start_syncing(request: Request, connection_id: uuid.UUID) -> None:
    """Open the push channel (polling covers a connection whose channel cannot be opened)
    and ask the scheduler for the first pass."""
    state = request.app.state
    try:
        await state.channels.open(connection_id)
    except (ProviderError, DomainError) as exc:
        log.warning("push channel not opened; polling instead", error=str(exc))
    await state.kicker.kick(connection_id, trigger="activated")


async def stop_syncing(request: Request, connection_id: uuid.UUID) -> None:
    try:
        await request.app.state.channels.close(connection_id)
    except (ProviderError, DomainError) as exc:
        log.warning("push channel not stopped; it will lapse", error=str(exc))


@router.post(f"{PAGE}/connections/{{connection_id}}/calendar")
async def activate(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    connection_id: uuid.UUID,
    calendar: Annotated[str, Form()],
    backfill: Annotated[Backfill, Form()] = Backfill.UPCOMING,
    step_reminders: Annotated[bool, Form()] = False,
) -> Response:
    """``calendar`` is ``{"id": ..., "name": ...}`` so the name kept is the one the user saw."""
    calendar_id, calendar_name = _calendar_choice(calendar)
    waits = False

    async def activate_and_start() -> object:
        nonlocal waits
        row = await svc.activate(
            session, signed.actor, connection_id, calendar_id=calendar_id,
            calendar_name=calendar_name, step_reminders=step_reminders, backfill=backfill,
        )  # fmt: skip
        waits = row.status is ConnectionStatus.AWAITING_APPROVAL
        if waits:  # nothing starts while it awaits an admin's approval; the approvers are told
            await tell_approvers(session, settings_of(request), connection_id)
        else:
            await start_syncing(request, connection_id)
        return row

    response = await run_form(request, session, signed, activate_and_start, "connected")
    if waits and isinstance(response, RedirectResponse):
        return RedirectResponse(f"{PAGE}?done=awaiting-approval", status_code=303)
    return response


@router.post(f"{PAGE}/connections/{{connection_id}}/disconnect")
async def disconnect(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:

    async def stop_and_disconnect() -> None:
        await get_connection(session, signed.actor, connection_id)  # own (or admin) only
        await stop_syncing(request, connection_id)
        await svc.disconnect(
            session, settings_of(request), shared_http(request), signed.actor, connection_id
        )

    return await run_form(request, session, signed, stop_and_disconnect, "disconnected")


@router.post(f"{PAGE}/consents/{{tenant_id}}/grant")
async def grant_consent(
    request: Request, session: SessionDep, signed: CsrfChecked, tenant_id: str
) -> Response:
    """A firm admin who administers the tenant grants consent themselves."""
    try:
        url = await start_admin_consent(
            session, settings_of(request), signed.actor, tenant_id,
            browser_binding=browser_binding(signed.session_id),
        )  # fmt: skip
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    return RedirectResponse(url, status_code=303)


@router.post(f"{PAGE}/connections/{{connection_id}}/request-approval")
async def ask_for_approval(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:
    """The "Approval required" page's own Request approval: the firm admins get the link."""
    return await run_form(
        request, session, signed,
        lambda: request_approval(session, settings_of(request), signed.actor, connection_id),
        "approval-requested",
    )  # fmt: skip
