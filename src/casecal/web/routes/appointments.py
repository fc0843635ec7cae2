"""`/appointments`: timed or all-day, optionally recurring, on one owner's calendar."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import entries
from casecal.services.appointments import create_appointment, update_appointment
from casecal.store.tables import Appointment
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset, RangeEnd, RangeStart
from casecal.web.schemas.appointments import (
    AppointmentCreate,
    AppointmentPublic,
    AppointmentUpdate,
)
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/appointments", tags=["appointments"])


@router.get(
    "",
    summary="List appointments in a time range",
    description="Live appointments overlapping [start, end), ordered by start then id.",
    response_model=Page[AppointmentPublic],
)
async def list_appointments(
    session: SessionDep,
    actor: CurrentActor,
    start: RangeStart = None,
    end: RangeEnd = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
) -> dict[str, object]:
    page = await entries.list_entries(
        session, actor, Appointment, start=start, end=end, limit=limit, offset=offset
    )
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post(
    "",
    status_code=201,
    summary="Create an appointment",
    description="A case manager creates appointments for themselves; an admin for anyone.",
    response_model=AppointmentPublic,
)
async def create(session: SessionDep, actor: CurrentActor, body: AppointmentCreate) -> object:
    return await create_appointment(session, actor, body.model_dump(exclude_unset=True))


@router.get("/{appointment_id}", summary="Get an appointment", response_model=AppointmentPublic)
async def get(session: SessionDep, actor: CurrentActor, appointment_id: uuid.UUID) -> object:
    return await entries.get_entry(session, actor, Appointment, appointment_id)


@router.patch(
    "/{appointment_id}", summary="Change an appointment", response_model=AppointmentPublic
)
async def update(
    session: SessionDep, actor: CurrentActor, appointment_id: uuid.UUID, body: AppointmentUpdate
) -> object:
    return await update_appointment(session, actor, appointment_id, body.changes())


@router.delete(
    "/{appointment_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an appointment (kept as a tombstone for sync)",
)
async def delete(session: SessionDep, actor: CurrentActor, appointment_id: uuid.UUID) -> None:
    await entries.delete_entry(session, actor, Appointment, appointment_id)
