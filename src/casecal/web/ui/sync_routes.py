"""Setup > Subscriptions > Calendar Sync: the page, the admin's subscription and seat forms,
and the case manager's Sync now, Confirm deletions and conflict Restore buttons."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.errors import DomainError
from casecal.services import connections as conn_svc
from casecal.services import subscriptions as sub_svc
from casecal.store.tables import ConnectionStatus
from casecal.sync.engine import SyncEngine
from casecal.sync.outcomes import PassOutcome
from casecal.web.deps import SessionDep
from casecal.web.ui.conflict_view import describe
from casecal.web.ui.extras import admin_extras, manager_extras
from casecal.web.ui.prompt_reasons import reason_for
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn, settings_of
from casecal.web.ui.sync_page import admin_context, manager_context
from casecal.web.ui.templating import render

router = APIRouter()

PAGE = "/calendar-sync"


async def sync_page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    actor = signed.actor
    shown = {"error": error} | ({"notice": notice} if notice else {})
    if signed.is_admin:
        extras = await admin_extras(session, actor, settings_of(request))
        context = await admin_context(session, actor) | extras
        return render(request, "sync_admin.html", context | shown, signed=signed,
                      status_code=status_code)  # fmt: skip
    manager = await manager_context(session, actor)
    conflicts = [(k, describe(k.winner, k.winner_snapshot, k.loser_snapshot,
                              signed.user.time_zone)) for k in manager.conflicts]  # fmt: skip
    context = (
        {"m": manager, "conflicts": conflicts}
        | shown
        | manager_extras(manager, settings_of(request))
    )
    return render(request, "sync_manager.html", context, signed=signed, status_code=status_code)


@router.get(PAGE)
async def calendar_sync(
    request: Request,
    session: SessionDep,
    signed: CurrentWebSession,
    flash: str = "",
    connection: uuid.UUID | None = None,
    prompt: str = "",
) -> Response:
    if flash == "connected" and connection is not None:  # back from the provider: pick a calendar
        try:
            row = await conn_svc.get_connection(session, signed.actor, connection)
        except DomainError:  # not in the firm, or another's: the page as usual
            row = None
        mine = row is not None and row.user_id == signed.user.id
        if mine and row is not None and row.status is ConnectionStatus.PENDING:
            return RedirectResponse(f"{PAGE}/connections/{connection}/calendar", status_code=303)
    why = reason_for(settings_of(request), signed.user.id, prompt)  # after the connect prompt
    if why is not None:
        return await sync_page(request, session, signed, error=why.text if why.is_error else "",
                               notice="" if why.is_error else why.text)  # fmt: skip
    return await sync_page(request, session, signed)


async def run_form(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    action: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    """Carry out a form's action; a refusal re-renders the page with the reason."""
    try:
        await action()
    except DomainError as exc:
        return await refused(request, session, signed, exc)
    return RedirectResponse(f"{PAGE}?done={done}", status_code=303)


async def refused(
    request: Request, session: SessionDep, signed: SignedIn, exc: DomainError
) -> Response:
    """A refused form: undo its partial work and show the page with the reason."""
    await session.rollback()
    return await sync_page(request, session, signed, error=exc.detail,
                           status_code=exc.status_code)  # fmt: skip


@router.post(f"{PAGE}/subscription/request")
async def subscribe(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    return await run_form(
        request, session, signed,
        lambda: sub_svc.request_subscription(session, signed.actor), "subscribed",
    )  # fmt: skip


@router.post(f"{PAGE}/subscription/activate")
async def activate(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    return await run_form(
        request, session, signed,
        lambda: sub_svc.activate_subscription(session, signed.actor), "activated",
    )  # fmt: skip


@router.post(f"{PAGE}/subscription/cancel")
async def cancel(request: Request, session: SessionDep, signed: CsrfChecked) -> Response:
    return await run_form(
        request, session, signed,
        lambda: sub_svc.cancel_subscription(session, signed.actor), "cancelled",
    )  # fmt: skip


@router.post(f"{PAGE}/seats")
async def add_seat(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    user_id: Annotated[uuid.UUID, Form()],
) -> Response:
    return await run_form(
        request, session, signed,
        lambda: sub_svc.add_seat(session, signed.actor, user_id), "seat-added",
    )  # fmt: skip


@router.post(f"{PAGE}/seats/{{user_id}}/remove")
async def remove_seat(
    request: Request, session: SessionDep, signed: CsrfChecked, user_id: uuid.UUID
) -> Response:
    return await run_form(
        request, session, signed,
        lambda: sub_svc.remove_seat(session, signed.actor, user_id), "seat-removed",
    )  # fmt: skip


@router.post(f"{PAGE}/connections/{{connection_id}}/sync")
async def sync_now(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:
    engine: SyncEngine = request.app.state.sync_engine
    return await run_form(
        request, session, signed,
        lambda: conn_svc.sync_now(session, signed.actor, connection_id, engine), "synced",
    )  # fmt: skip


@router.post(f"{PAGE}/connections/{{connection_id}}/confirm-deletions")
async def confirm_deletions(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:
    return await run_form(
        request, session, signed,
        lambda: conn_svc.confirm_deletions(session, signed.actor, connection_id), "confirmed",
    )  # fmt: skip


@router.post(f"{PAGE}/conflicts/{{conflict_id}}/restore")
async def restore(
    request: Request, session: SessionDep, signed: CsrfChecked, conflict_id: uuid.UUID
) -> Response:
    return await run_form(
        request, session, signed,
        lambda: conn_svc.restore_conflict(session, signed.actor, conflict_id), "restored",
    )  # fmt: skip


@router.post(f"{PAGE}/connections/{{connection_id}}/cleanup")
async def clean_up(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    connection_id: uuid.UUID,
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """A firm admin removes the events CaseCal created in a paused connection's calendar; a
    large clean-up stops at the deletion guard until the admin confirms it here."""
    engine: SyncEngine = request.app.state.sync_engine
    outcome: PassOutcome | None = None

    async def run() -> None:
        nonlocal outcome
        if confirm:
            await conn_svc.confirm_deletions(session, signed.actor, connection_id)
        outcome = (
            await conn_svc.request_cleanup(session, signed.actor, connection_id, engine)
        ).outcome

    done = await run_form(request, session, signed, run, "cleaned-up")
    if outcome is PassOutcome.PAUSED:
        return RedirectResponse(f"{PAGE}?done=cleanup-confirm", status_code=303)
    if outcome is PassOutcome.FAILED:
        return RedirectResponse(f"{PAGE}?done=cleanup-failed", status_code=303)
    return done
