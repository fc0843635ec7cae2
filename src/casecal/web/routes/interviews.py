"""`/interviews`: interviews of the firm's cases."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from casecal.services import entries
from casecal.services.case_entries import create_case_entry, update_case_entry
from casecal.store.tables import Interview
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset, RangeEnd, RangeStart
from casecal.web.schemas.case_entries import InterviewCreate, InterviewPublic, InterviewUpdate
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/interviews", tags=["interviews"])


@router.get(
    "",
    summary="List interviews in a time range",
    description="Live interviews overlapping [start, end), ordered by start then id.",
    response_model=Page[InterviewPublic],
)
async def list_all(
    session: SessionDep,
    actor: CurrentActor,
    start: RangeStart = None,
    end: RangeEnd = None,
    case_id: uuid.UUID | None = Query(default=None, description="Only this case's."),
    limit: Limit = DEFAULT,
    offset: Offset = 0,
) -> dict[str, object]:
    page = await entries.list_entries(
        session, actor, Interview, start=start, end=end, case_id=case_id, limit=limit, offset=offset
    )
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a interview", response_model=InterviewPublic)
async def create(session: SessionDep, actor: CurrentActor, body: InterviewCreate) -> object:
    return await create_case_entry(session, actor, Interview, body.model_dump(exclude_unset=True))


@router.get("/{interview_id}", summary="Get a interview", response_model=InterviewPublic)
async def get(session: SessionDep, actor: CurrentActor, interview_id: uuid.UUID) -> object:
    return await entries.get_entry(session, actor, Interview, interview_id)


@router.patch("/{interview_id}", summary="Change a interview", response_model=InterviewPublic)
async def update(
    session: SessionDep, actor: CurrentActor, interview_id: uuid.UUID, body: InterviewUpdate
) -> object:
    return await update_case_entry(session, actor, Interview, interview_id, body.changes())


@router.delete(
    "/{interview_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a interview (kept as a tombstone for sync)",
)
async def delete(session: SessionDep, actor: CurrentActor, interview_id: uuid.UUID) -> None:
    await entries.delete_entry(session, actor, Interview, interview_id)
