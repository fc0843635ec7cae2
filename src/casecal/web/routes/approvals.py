"""`/approvals`: the connections waiting for an admin's approval (``connections.require_approval``)
and the decisions; `/teams/{team_id}/admins`: who decides a team's approvals. A firm admin sees
and decides the firm's; a team admin their team's members' only; another firm's connection is
not found (404)."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter, Request, Response

from casecal.errors import DomainError
from casecal.providers.errors import ProviderError
from casecal.services import approvals as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.schemas.approvals import (
    ApprovalPublic,
    DecisionPublic,
    Decline,
    TeamAdminPublic,
)

router = APIRouter(tags=["approvals"])
log = structlog.get_logger("casecal.web")


async def start_first_pass(request: Request, connection_id: uuid.UUID) -> None:
    """Open the approved connection's push channel (polling covers it when that fails) and
    kick its first pass now."""
    state = request.app.state
    channels = getattr(state, "channels", None)
    if channels is not None:
        try:
            await channels.open(connection_id)
        except (ProviderError, DomainError) as exc:
            log.warning("push channel not opened; polling instead", error=str(exc))
    kicker = getattr(state, "kicker", None)
    if kicker is not None:
        await kicker.kick(connection_id, trigger="approved")


@router.get("/approvals", summary="Connections waiting for approval (firm or team admin)",
            response_model=list[ApprovalPublic])  # fmt: skip
async def list_waiting(session: SessionDep, actor: CurrentActor) -> object:
    return await svc.waiting(session, actor)


@router.post("/approvals/{connection_id}/approve", summary="Approve a connection; it syncs now",
             response_model=DecisionPublic)  # fmt: skip
async def approve(
    request: Request, session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID
) -> object:
    row = await svc.approve(session, actor, connection_id)
    await start_first_pass(request, connection_id)
    return row


@router.post("/approvals/{connection_id}/decline",
             summary="Decline a connection with a reason the case manager sees",
             response_model=DecisionPublic)  # fmt: skip
async def decline(
    session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID, body: Decline
) -> object:
    return await svc.decline(session, actor, connection_id, body.reason)


@router.put("/teams/{team_id}/admins/{user_id}", summary="Name a team admin (firm admin)",
            response_model=TeamAdminPublic)  # fmt: skip
async def name_team_admin(
    session: SessionDep, actor: CurrentActor, team_id: uuid.UUID, user_id: uuid.UUID
) -> object:
    return await svc.name_team_admin(session, actor, team_id, user_id)


@router.delete("/teams/{team_id}/admins/{user_id}", status_code=204, response_class=Response,
               summary="Remove a team admin (firm admin)")  # fmt: skip
async def remove_team_admin(
    session: SessionDep, actor: CurrentActor, team_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await svc.remove_team_admin(session, actor, team_id, user_id)
