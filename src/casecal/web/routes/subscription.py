"""`/subscription` and `/subscription/seats`: Calendar Sync for the firm (firm admins only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import subscriptions as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.common import Page, page_of
from casecal.web.schemas.subscriptions import SeatCreate, SeatPublic, SubscriptionPublic

router = APIRouter(prefix="/subscription", tags=["subscription"])


@router.get("", summary="The firm's subscription", response_model=SubscriptionPublic)
async def get_subscription(session: SessionDep, actor: CurrentActor) -> object:
    return await svc.get_subscription(session, actor)


@router.post(
    "",
    status_code=201,
    summary="Subscribe to Calendar Sync",
    description="Creates a `requested` subscription, or requests again after a cancellation.",
    response_model=SubscriptionPublic,
)
async def request_subscription(session: SessionDep, actor: CurrentActor) -> object:
    return await svc.request_subscription(session, actor)


@router.post(
    "/activate", summary="Activate a requested subscription", response_model=SubscriptionPublic
)
async def activate(session: SessionDep, actor: CurrentActor) -> object:
    return await svc.activate_subscription(session, actor)


@router.post("/cancel", summary="Cancel the subscription", response_model=SubscriptionPublic)
async def cancel(session: SessionDep, actor: CurrentActor) -> object:
    return await svc.cancel_subscription(session, actor)


def _seat(row: tuple[object, object]) -> SeatPublic:
    seat, user = row
    return SeatPublic(
        user_id=getattr(user, "id"),  # noqa: B009
        name=getattr(user, "name"),  # noqa: B009
        email=getattr(user, "email"),  # noqa: B009
        added_at=getattr(seat, "added_at"),  # noqa: B009
    )


@router.get("/seats", summary="List the seats, by name", response_model=Page[SeatPublic])
async def list_seats(
    session: SessionDep, actor: CurrentActor, limit: Limit = DEFAULT, offset: Offset = 0
) -> dict[str, object]:
    page = await svc.list_seats(session, actor, limit=limit, offset=offset)
    return page_of([_seat(row) for row in page.items], total=page.total, limit=limit,
                   offset=offset)  # fmt: skip


@router.post(
    "/seats",
    status_code=201,
    summary="Add a case manager to the subscription",
    response_model=SeatPublic,
)
async def add_seat(session: SessionDep, actor: CurrentActor, body: SeatCreate) -> SeatPublic:
    return _seat(await svc.add_seat(session, actor, body.user_id))


@router.delete(
    "/seats/{user_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a case manager's seat",
)
async def remove_seat(session: SessionDep, actor: CurrentActor, user_id: uuid.UUID) -> None:
    await svc.remove_seat(session, actor, user_id)
