"""Seats and the subscription, enforced after connect: when a seat is removed or the
subscription stops being active, the connections it covered pause at once; when it comes
back they resume from their cursor. Changes are written with the caller's transaction (with
an audit event each); the push channels are stopped, reopened and the first pass kicked after
the commit (``casecal.sync.entitlement_effects``), noted in ``session.info``. The tables of
states are pure (``casecal.domain.entitlement``) and the facts query lives in sync
(``casecal.sync.entitlement_query``), which the engine's gate shares; the old names stay
importable here."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.entitlement import PAUSED as PAUSED
from casecal.domain.entitlement import PAUSED_STATES as PAUSED_STATES
from casecal.domain.entitlement import REASONS, entitlement
from casecal.domain.entitlement import SYNCING as SYNCING
from casecal.services import audit
from casecal.store.tables import Connection, ConnectionStatus, utcnow
from casecal.sync.entitlement_effects import EFFECTS as EFFECTS
from casecal.sync.entitlement_effects import Effects as Effects
from casecal.sync.entitlement_effects import effects_of as effects_of
from casecal.sync.entitlement_query import entitlement_facts
from casecal.sync.entitlement_query import entitlement_of as entitlement_of


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
    active, seated = await entitlement_facts(session, firm_id)
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
