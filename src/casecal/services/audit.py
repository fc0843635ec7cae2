"""The audit log: subscription, seat, connection, consent and token events a firm admin sees.
Details never carry tokens or secrets. Writing one event lives in ``casecal.sync.audit_rows``
(sync writes events too and does not import the services); ``record`` stays importable here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor, require_admin
from casecal.store.tables import AuditEvent
from casecal.sync.audit_rows import record as record


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
