"""`/court-dates`: court dates of the firm's cases."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from casecal.services import entries
from casecal.services.case_entries import create_case_entry, update_case_entry
from casecal.store.tables import CourtDate
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset, RangeEnd, RangeStart
from casecal.web.schemas.case_entries import CourtDateCreate, CourtDatePublic, CourtDateUpdate
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/court-dates", tags=["court dates"])


@router.get(
    "",
    summary="List court dates in a time range",
    description="Live court dates overlapping [start, end), ordered by start then id.",
    response_model=Page[CourtDatePublic],
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
        session, actor, CourtDate, start=start, end=end, case_id=case_id, limit=limit, offset=offset
    )
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a court date", response_model=CourtDatePublic)
async def create(session: SessionDep, actor: CurrentActor, body: CourtDateCreate) -> object:
    return await create_case_entry(session, actor, CourtDate, body.model_dump(exclude_unset=True))


@router.get("/{court_date_id}", summary="Get a court date", response_model=CourtDatePublic)
async def get(session: SessionDep, actor: CurrentActor, court_date_id: uuid.UUID) -> object:
    return await entries.get_entry(session, actor, CourtDate, court_date_id)


@router.patch("/{court_date_id}", summary="Change a court date", response_model=CourtDatePublic)
async def update(
    session: SessionDep, actor: CurrentActor, court_date_id: uuid.UUID, body: CourtDateUpdate
) -> object:
    return await update_case_entry(session, actor, CourtDate, court_date_id, body.changes())


@router.delete(
    "/{court_date_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a court date (kept as a tombstone for sync)",
)
async def delete(session: SessionDep, actor: CurrentActor, court_date_id: uuid.UUID) -> None:
    await entries.delete_entry(session, actor, CourtDate, court_date_id)
