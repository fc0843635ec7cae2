"""`/cases`: firm admins and case managers manage cases and their case managers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import cases as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.cases import CaseCreate, CasePublic, CaseUpdate
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", summary="List cases", response_model=Page[CasePublic])
async def list_cases(
    session: SessionDep, actor: CurrentActor, limit: Limit = DEFAULT, offset: Offset = 0
) -> dict[str, object]:
    page = await svc.list_cases(session, actor, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a case", response_model=CasePublic)
async def create_case(session: SessionDep, actor: CurrentActor, body: CaseCreate) -> object:
    return await svc.create_case(session, actor, body.model_dump())


@router.get("/{case_id}", summary="Get a case", response_model=CasePublic)
async def get_case(session: SessionDep, actor: CurrentActor, case_id: uuid.UUID) -> object:
    return await svc.get_case(session, actor, case_id)


@router.patch(
    "/{case_id}",
    summary="Change or reassign a case",
    description="Setting `manager_ids` reassigns the case: every live entry that follows the "
    "case managers gets a new version, and the sync engine removes it from the calendars of "
    "the managers who lost it and adds it to those of the managers who gained it.",
    response_model=CasePublic,
)
async def update_case(
    session: SessionDep, actor: CurrentActor, case_id: uuid.UUID, body: CaseUpdate
) -> object:
    return await svc.update_case(session, actor, case_id, body.changes())


@router.delete(
    "/{case_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a case without live entries",
)
async def delete_case(session: SessionDep, actor: CurrentActor, case_id: uuid.UUID) -> None:
    await svc.delete_case(session, actor, case_id)
