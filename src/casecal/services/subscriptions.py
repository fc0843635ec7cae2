"""Calendar Sync subscription of a firm (requested -> active -> cancelled) and its seats.
Every change is audited and enforced on the firm's connections in the same transaction
(``services.entitlements``): a removed seat or a cancelled subscription pauses syncing at once,
and it resumes when the seat or an active subscription is back."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.errors import Conflict, NotFound
from casecal.services import audit
from casecal.services.access import Actor, require_admin
from casecal.services.entitlements import enforce
from casecal.services.entries import commit
from casecal.services.lookups import get_case_manager, get_in_firm
from casecal.services.paging import Page
from casecal.store.tables import Seat, Subscription, SubscriptionStatus, User, utcnow


async def _find(session: AsyncSession, firm_id: uuid.UUID) -> Subscription | None:
    rows = await session.execute(select(Subscription).where(Subscription.firm_id == firm_id))
    return rows.scalar_one_or_none()


async def get_subscription(session: AsyncSession, actor: Actor) -> Subscription:
    require_admin(actor, "see the subscription")
    sub = await _find(session, actor.firm_id)
    if sub is None:
        raise NotFound("the firm has not subscribed to Calendar Sync")
    return sub


async def request_subscription(session: AsyncSession, actor: Actor) -> Subscription:
    """Subscribe (or subscribe again after a cancellation)."""
    require_admin(actor, "subscribe")
    sub = await _find(session, actor.firm_id)
    now = utcnow()
    if sub is None:
        sub = Subscription(
            id=uuid.uuid4(),
            firm_id=actor.firm_id,
            status=SubscriptionStatus.REQUESTED,
            requested_at=now,
        )
        session.add(sub)
    elif sub.status is SubscriptionStatus.CANCELLED:
        sub.status = SubscriptionStatus.REQUESTED
        sub.requested_at, sub.activated_at, sub.cancelled_at = now, None, None
    else:
        raise Conflict(f"the subscription is already {sub.status.value}")
    _audit(session, actor, "subscription.requested")
    await enforce(session, actor.firm_id, actor.user_id)
    await commit(session)
    return sub


async def activate_subscription(session: AsyncSession, actor: Actor) -> Subscription:
    sub = await get_subscription(session, actor)
    if sub.status is not SubscriptionStatus.REQUESTED:
        raise Conflict(f"only a requested subscription can be activated (it is {sub.status.value})")
    sub.status, sub.activated_at = SubscriptionStatus.ACTIVE, utcnow()
    _audit(session, actor, "subscription.activated")
    await enforce(session, actor.firm_id, actor.user_id)
    await commit(session)
    return sub


async def cancel_subscription(session: AsyncSession, actor: Actor) -> Subscription:
    sub = await get_subscription(session, actor)
    if sub.status is SubscriptionStatus.CANCELLED:
        raise Conflict("the subscription is already cancelled")
    sub.status, sub.cancelled_at = SubscriptionStatus.CANCELLED, utcnow()
    _audit(session, actor, "subscription.cancelled")
    await enforce(session, actor.firm_id, actor.user_id)
    await commit(session)
    return sub


def status_since(sub: Subscription) -> datetime | None:
    """When the subscription entered its current status (what a page shows as "since")."""
    if sub.status is SubscriptionStatus.CANCELLED:
        return sub.cancelled_at
    if sub.status is SubscriptionStatus.ACTIVE:
        return sub.activated_at
    return sub.requested_at


def _audit(
    session: AsyncSession, actor: Actor, action: str, target: str = "subscription", **details: str
) -> None:
    audit.record(session, actor.firm_id, actor.user_id, action, target, details)


async def list_seats(
    session: AsyncSession, actor: Actor, *, limit: int, offset: int
) -> Page[tuple[Seat, User]]:
    """One page of the firm's seats with their users, by name."""
    require_admin(actor, "see seats")
    query = (
        select(Seat, User)
        .join(User, User.id == Seat.user_id)
        .where(Seat.firm_id == actor.firm_id, User.firm_id == actor.firm_id)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(User.name, User.id).limit(limit).offset(offset))
    items = [(seat, user) for seat, user in rows]
    return Page(items=items, total=int(total or 0), limit=limit, offset=offset)


async def add_seat(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> tuple[Seat, User]:
    """Add a case manager to the subscription (which must be requested or active)."""
    require_admin(actor, "manage seats")
    user = await get_case_manager(session, user_id, actor.firm_id, "user_id")
    sub = await _find(session, actor.firm_id)
    if sub is None or sub.status is SubscriptionStatus.CANCELLED:
        raise Conflict("seats need a requested or active subscription")
    taken = await session.execute(
        select(Seat).where(Seat.subscription_id == sub.id, Seat.user_id == user.id)
    )
    if taken.scalar_one_or_none() is not None:
        raise Conflict(f"user {user.id} already has a seat", field="user_id")
    seat = Seat(id=uuid.uuid4(), firm_id=actor.firm_id, subscription_id=sub.id, user_id=user.id)
    seat.added_at = utcnow()
    session.add(seat)
    _audit(session, actor, "seat.added", f"user:{user.id}", email=user.email)
    await enforce(session, actor.firm_id, actor.user_id, user_id=user.id)
    await commit(session)
    return seat, user


async def remove_seat(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> None:
    require_admin(actor, "manage seats")
    user = await get_in_firm(session, User, user_id, actor.firm_id)
    rows = await session.execute(
        select(Seat).where(Seat.firm_id == actor.firm_id, Seat.user_id == user.id)
    )
    seat = rows.scalar_one_or_none()
    if seat is None:
        raise NotFound(f"user {user_id} has no seat")
    await session.delete(seat)
    _audit(session, actor, "seat.removed", f"user:{user.id}", email=user.email)
    await enforce(session, actor.firm_id, actor.user_id, user_id=user.id)
    await commit(session)
