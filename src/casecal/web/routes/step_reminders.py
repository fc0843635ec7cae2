"""`/step-reminders`: step reminders of the firm's cases."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from casecal.services import entries
from casecal.services.case_entries import create_case_entry, update_case_entry
from casecal.store.tables import StepReminder
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset, RangeEnd, RangeStart
from casecal.web.schemas.case_entries import (
    StepReminderCreate,
    StepReminderPublic,
    StepReminderUpdate,
)
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/step-reminders", tags=["step reminders"])


@router.get(
    "",
    summary="List step reminders in a time range",
    description="Live step reminders overlapping [start, end), ordered by start then id.",
    response_model=Page[StepReminderPublic],
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
        session,
        actor,
        StepReminder,
        start=start,
        end=end,
        case_id=case_id,
        limit=limit,
        offset=offset,
    )
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post(
    "", status_code=201, summary="Create a step reminder", response_model=StepReminderPublic
)
async def create(session: SessionDep, actor: CurrentActor, body: StepReminderCreate) -> object:
    return await create_case_entry(
        session, actor, StepReminder, body.model_dump(exclude_unset=True)
    )


@router.get("/{step_reminder_id}", summary="Get a step reminder", response_model=StepReminderPublic)
async def get(session: SessionDep, actor: CurrentActor, step_reminder_id: uuid.UUID) -> object:
    return await entries.get_entry(session, actor, StepReminder, step_reminder_id)


@router.patch(
    "/{step_reminder_id}", summary="Change a step reminder", response_model=StepReminderPublic
)
async def update(
    session: SessionDep, actor: CurrentActor, step_reminder_id: uuid.UUID, body: StepReminderUpdate
) -> object:
    return await update_case_entry(session, actor, StepReminder, step_reminder_id, body.changes())


@router.delete(
    "/{step_reminder_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a step reminder (kept as a tombstone for sync)",
)
async def delete(session: SessionDep, actor: CurrentActor, step_reminder_id: uuid.UUID) -> None:
    await entries.delete_entry(session, actor, StepReminder, step_reminder_id)
