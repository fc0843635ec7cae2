"""Seats and the subscription, enforced after connect: when a seat is removed or the
subscription stops being active, the connections it covered pause at once; when it comes
back they resume from their cursor. Changes are written with the caller's transaction (with
an audit event each); the push channels are stopped, reopened and the first pass kicked after
the commit (``casecal.sync.entitlement_effects``), noted in ``session.info``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.entitlement import REASONS, Entitlement, entitlement
from casecal.services import audit
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    Seat,
    Subscription,
    SubscriptionStatus,
    utcnow,
)

PAUSED = {
    Entitlement.NO_SEAT: ConnectionStatus.PAUSED_NO_SEAT,
    Entitlement.NO_SUBSCRIPTION: ConnectionStatus.PAUSED_SUBSCRIPTION,
}
PAUSED_STATES = frozenset(PAUSED.values())
SYNCING = frozenset({ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED_DELETIONS})
"""States a seat or subscription change pauses (a paused-for-deletions connection resumes as
active: its next pass meets the guard again). Connections that cannot sync anyway (pending,
needing re-authorisation or consent, disconnected) keep their state, and the engine's gate
stands behind them if they come back."""

EFFECTS = "casecal_entitlement_effects"
"""``session.info`` key: the ``Effects`` of this transaction, read after its commit."""


@dataclass
class Effects:
    paused: set[uuid.UUID] = field(default_factory=set)
    resumed: set[uuid.UUID] = field(default_factory=set)


def effects_of(session: AsyncSession) -> Effects:
    found: Effects = session.info.setdefault(EFFECTS, Effects())
    return found


async def _facts(
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
    active, seated = await _facts(session, firm_id)
    return entitlement(active, user_id in seated)


async def enforce(
    session: AsyncSession,
    firm_id: uuid.UUID,
    actor_user_id: uuid.UUID | None,
    *,
    user_id: uuid.UUID | None = None,
) -> Effects:
    """Bring the firm's connections (or one user's) in line with the seats and subscription
    as they stand in this session: pause what lost them, resume what has them again."""
    await session.flush()
    active, seated = await _facts(session, firm_id)
    query = select(Connection).where(
        Connection.firm_id == firm_id, Connection.status.in_(SYNCING | PAUSED_STATES)
    )
    if user_id is not None:
        query = query.where(Connection.user_id == user_id)
    effects = effects_of(session)
    for row in (await session.scalars(query.order_by(Connection.id))).all():
        verdict = entitlement(active, row.user_id in seated)
        target = PAUSED.get(verdict)
        if target is not None and row.status is not target:
            _pause(session, row, target, REASONS[verdict], actor_user_id)
            effects.paused.add(row.id)
            effects.resumed.discard(row.id)
        elif target is None and row.status in PAUSED_STATES:
            _resume(session, row, actor_user_id)
            effects.resumed.add(row.id)
            effects.paused.discard(row.id)
    return effects


def _pause(
    session: AsyncSession,
    row: Connection,
    status: ConnectionStatus,
    reason: str,
    actor_user_id: uuid.UUID | None,
) -> None:
    before = row.status
    row.status, row.status_reason = status, reason
    details = {"user_id": str(row.user_id), "from": before.value, "to": status.value}
    audit.record(session, row.firm_id, actor_user_id, "connection.paused",
                 f"connection:{row.id}", details)  # fmt: skip


def _resume(session: AsyncSession, row: Connection, actor_user_id: uuid.UUID | None) -> None:
    before = row.status
    now = utcnow()
    row.status, row.status_reason, row.sync_requested_at = ConnectionStatus.ACTIVE, "", now
    row.cleanup_requested_at = None
    details = {"user_id": str(row.user_id), "from": before.value, "to": "active"}
    audit.record(session, row.firm_id, actor_user_id, "connection.resumed",
                 f"connection:{row.id}", details)  # fmt: skip
