"""`/teams`: anyone in the firm reads, firm admins manage."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import teams as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.common import Page, page_of
from casecal.web.schemas.teams import TeamCreate, TeamPublic, TeamUpdate

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("", summary="List teams", response_model=Page[TeamPublic])
async def list_teams(
    session: SessionDep, actor: CurrentActor, limit: Limit = DEFAULT, offset: Offset = 0
) -> dict[str, object]:
    page = await svc.list_teams(session, actor, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a team (firm admin)", response_model=TeamPublic)
async def create_team(session: SessionDep, actor: CurrentActor, body: TeamCreate) -> object:
    return await svc.create_team(session, actor, body.model_dump())


@router.get("/{team_id}", summary="Get a team", response_model=TeamPublic)
async def get_team(session: SessionDep, actor: CurrentActor, team_id: uuid.UUID) -> object:
    return await svc.get_team(session, actor, team_id)


@router.patch("/{team_id}", summary="Rename a team (firm admin)", response_model=TeamPublic)
async def update_team(
    session: SessionDep, actor: CurrentActor, team_id: uuid.UUID, body: TeamUpdate
) -> object:
    return await svc.update_team(session, actor, team_id, body.changes())


@router.delete(
    "/{team_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a team (firm admin); its members stay, without a team",
)
async def delete_team(session: SessionDep, actor: CurrentActor, team_id: uuid.UUID) -> None:
    await svc.delete_team(session, actor, team_id)
