"""`/appointments`: timed or all-day, optionally recurring, on one owner's calendar."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import entries, privacy
from casecal.services.appointments import (
    create_appointment,
    read_appointment,
    share_appointment,
    update_appointment,
)
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
    description="Live appointments overlapping [start, end), ordered by start then id. "
    "Appointments imported from a colleague's calendar without a case are theirs alone "
    "(firm admins see a busy block) unless they share them; others' private appointments "
    "are busy blocks (`busy_block`: title `Busy`, no notes, place or attendees).",
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
    items = [privacy.public(actor, row) for row in page.items]
    return page_of(items, total=page.total, limit=limit, offset=offset)


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
    return await read_appointment(session, actor, appointment_id)


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


@router.post(
    "/{appointment_id}/share",
    summary="Share an imported appointment with the firm (its owner only)",
    description="An appointment imported from the owner's calendar without a case is theirs "
    "alone; shared, the firm sees it like any other (a private one stays a busy block).",
    response_model=AppointmentPublic,
)
async def share(session: SessionDep, actor: CurrentActor, appointment_id: uuid.UUID) -> object:
    return await share_appointment(session, actor, appointment_id, shared=True)


@router.post(
    "/{appointment_id}/unshare",
    summary="Take an imported appointment back to its owner alone (its owner only)",
    response_model=AppointmentPublic,
)
async def unshare(session: SessionDep, actor: CurrentActor, appointment_id: uuid.UUID) -> object:
    return await share_appointment(session, actor, appointment_id, shared=False)
