"""What the Calendar Sync pages read: the firm's subscription and seats, its active case
managers, a connection's latest run and whether its tenant's consent is recorded. Reads only,
each scoped to the firm it is given."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    Role,
    Seat,
    Subscription,
    SyncRun,
    TenantConsent,
    User,
)


async def subscription_of(session: AsyncSession, firm_id: uuid.UUID) -> Subscription | None:
    sub: Subscription | None = await session.scalar(
        select(Subscription).where(Subscription.firm_id == firm_id)
    )
    return sub


async def last_run(session: AsyncSession, connection_id: uuid.UUID) -> SyncRun | None:
    """The connection's newest sync run, if any ran."""
    run: SyncRun | None = await session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return run


async def consent_granted(session: AsyncSession, row: Connection) -> bool:
    """A connection awaiting consent whose tenant's consent the firm has recorded since."""
    if row.status is not ConnectionStatus.AWAITING_CONSENT or not row.tenant_id:
        return False
    status = await session.scalar(
        select(TenantConsent.status).where(
            TenantConsent.firm_id == row.firm_id, TenantConsent.tenant_id == row.tenant_id
        )
    )
    return status == "consented"


async def active_case_managers(session: AsyncSession, firm_id: uuid.UUID) -> list[User]:
    """The firm's active case managers, by name."""
    managers = await session.scalars(
        select(User)
        .where(User.firm_id == firm_id, User.role == Role.CASE_MANAGER, User.is_active)
        .order_by(User.name, User.id)
    )
    return list(managers)


async def seated_user_ids(session: AsyncSession, firm_id: uuid.UUID) -> set[uuid.UUID]:
    """The people of the firm who hold a Calendar Sync seat."""
    return set(await session.scalars(select(Seat.user_id).where(Seat.firm_id == firm_id)))


async def has_seat(session: AsyncSession, actor: Actor) -> bool:
    seat = await session.scalar(
        select(Seat.id).where(Seat.firm_id == actor.firm_id, Seat.user_id == actor.user_id)
    )
    return seat is not None
