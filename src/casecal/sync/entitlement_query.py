"""Whether a user may sync, read from the database: the firm's subscription and its seats.
The verdict itself is pure (``casecal.domain.entitlement``); this module only reads the facts,
so the engine's gate and the enforcement after a seat or subscription change read them alike."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from casecal.domain.entitlement import Entitlement, entitlement
from casecal.store.tables import Seat, Subscription, SubscriptionStatus


async def entitlement_facts(
    session: AsyncSession, firm_id: uuid.UUID
) -> tuple[bool | None, frozenset[uuid.UUID]]:
    """Whether the firm's subscription is active (None: it has none) and who holds a seat."""
    sub = await session.scalar(select(Subscription).where(Subscription.firm_id == firm_id))
    if sub is None:
        return None, frozenset()
    seated = await session.scalars(select(Seat.user_id).where(Seat.subscription_id == sub.id))
    return sub.status is SubscriptionStatus.ACTIVE, frozenset(seated.all())


async def entitlement_of(
    session: AsyncSession, firm_id: uuid.UUID, user_id: uuid.UUID
) -> Entitlement:
    active, seated = await entitlement_facts(session, firm_id)
    return entitlement(active, user_id in seated)


def entitlement_columns(
    firm_id: InstrumentedAttribute[uuid.UUID], user_id: InstrumentedAttribute[uuid.UUID]
) -> tuple[ColumnElement[SubscriptionStatus | None], ColumnElement[bool]]:
    """The same facts as columns of a query that names the firm and the user (a sync pass
    reads them with its connection, in one statement): the status of the firm's subscription
    (NULL: none), and whether the user holds one of its seats."""
    status = select(Subscription.status).where(Subscription.firm_id == firm_id).scalar_subquery()
    seated = exists().where(
        Seat.user_id == user_id,
        Seat.subscription_id == Subscription.id,
        Subscription.firm_id == firm_id,
    )
    return status, seated


def entitlement_from(status: SubscriptionStatus | None, seated: bool) -> Entitlement:
    """The verdict of what ``entitlement_columns`` read."""
    if status is None:
        return entitlement(None, False)
    return entitlement(status is SubscriptionStatus.ACTIVE, bool(seated))
