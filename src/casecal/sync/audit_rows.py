"""Writing one audit event into the caller's transaction. Lives here, below the services, so
the sync layer (clean-up, entitlement enforcement) records events without importing the
services; ``casecal.services.audit`` re-exports it for everyone else. Details never carry
tokens or secrets."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
