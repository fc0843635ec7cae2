"""The audit log: subscription, seat, connection, consent and token events a firm admin sees.
Details never carry tokens or secrets."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor, require_admin
from casecal.store.tables import AuditEvent


def record(
    session: AsyncSession,
    firm_id: uuid.UUID,
    actor_user_id: uuid.UUID | None,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the session; it is written with the caller's transaction."""
    event = AuditEvent(
        firm_id=firm_id,
        actor_user_id=actor_user_id,
        action=action,
        target=target[:200],
        details=dict(details or {}),
    )
    session.add(event)
    return event


async def list_events(session: AsyncSession, actor: Actor, *, limit: int = 100) -> list[AuditEvent]:
    """The firm's newest events first (firm admins only)."""
    require_admin(actor, "read the audit log")
    query = (
        select(AuditEvent)
        .where(AuditEvent.firm_id == actor.firm_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
