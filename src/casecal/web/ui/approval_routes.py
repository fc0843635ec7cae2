"""Setup > Subscriptions > Calendar Sync > Connections waiting for approval: the firm admin's
(or a team admin's) queue, Approve (syncing starts at once) and Decline with a reason."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.errors import DomainError
from casecal.services import approvals as svc
from casecal.web.deps import SessionDep
from casecal.web.routes.approvals import start_first_pass
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn
from casecal.web.ui.templating import render

router = APIRouter()

QUEUE = "/calendar-sync/approvals"


async def _page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    *,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    try:
        waiting = await svc.waiting(session, signed.actor)
    except DomainError as exc:
        waiting, error, status_code = [], exc.detail, exc.status_code
    context = {"waiting": waiting, "error": error, "notice": notice}
    return render(request, "approvals.html", context, signed=signed, status_code=status_code)


@router.get(QUEUE)
async def queue(
    request: Request, session: SessionDep, signed: CurrentWebSession, done: str = ""
) -> Response:
    notice = {"approved": "Approved: syncing has started.",
              "declined": "Declined; the case manager sees your reason."}.get(done, "")  # fmt: skip
    return await _page(request, session, signed, notice=notice)


@router.post(f"{QUEUE}/{{connection_id}}/approve")
async def approve(
    request: Request, session: SessionDep, signed: CsrfChecked, connection_id: uuid.UUID
) -> Response:
    try:
        await svc.approve(session, signed.actor, connection_id)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, signed, error=exc.detail, status_code=exc.status_code)
    await start_first_pass(request, connection_id)
    return RedirectResponse(f"{QUEUE}?done=approved", status_code=303)


@router.post(f"{QUEUE}/{{connection_id}}/decline")
async def decline(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    connection_id: uuid.UUID,
    reason: Annotated[str, Form(max_length=svc.MAX_REASON)] = "",
) -> Response:
    try:
        await svc.decline(session, signed.actor, connection_id, reason)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, signed, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"{QUEUE}?done=declined", status_code=303)
