"""The parts of the Calendar Sync page that come from the consent and audit services: the
admin-consent panel and the audit log for admins, the consent link for a waiting manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.services import audit
from casecal.services.access import Actor
from casecal.services.consents import admin_consent_url, consent_panel
from casecal.store.tables import User
from casecal.web.ui.sync_page import ManagerContext

AUDIT_SHOWN = 25


@dataclass(frozen=True)
class AuditLine:
    created_at: datetime
    actor: str
    action: str
    target: str


async def admin_extras(session: AsyncSession, actor: Actor, settings: Settings) -> dict[str, Any]:
    events = await audit.list_events(session, actor, limit=AUDIT_SHOWN)
    rows = await session.execute(select(User.id, User.name).where(User.firm_id == actor.firm_id))
    names = dict(rows.all())
    lines = [
        AuditLine(
            e.created_at,
            names.get(e.actor_user_id, "") if e.actor_user_id else "",
            e.action,
            e.target,
        )
        for e in events
    ]
    return {"consents": await consent_panel(session, actor, settings), "audit": lines}


def manager_extras(manager: ManagerContext, settings: Settings) -> dict[str, Any]:
    conn = manager.connection.row if manager.connection else None
    waiting = manager.connection is not None and manager.connection.state.key == "awaiting_consent"
    url = admin_consent_url(settings, conn.tenant_id) if waiting and conn and conn.tenant_id else ""
    return {"consent_url": url}
