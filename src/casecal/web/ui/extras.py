"""The parts of the Calendar Sync page that come from the consent and audit services: the
admin-consent panel and the audit log for admins (names read by ``services.sync_view``), the
consent link for a waiting manager."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.services import approvals, audit
from casecal.services.access import Actor
from casecal.services.consents import admin_consent_url, consent_panel
from casecal.services.sync_view import connection_owners, people_names, tenant_domains
from casecal.store.tables import ProviderName
from casecal.web.ui.audit_view import Names, action_label, detail_line, target_label
from casecal.web.ui.sync_page import ManagerContext

AUDIT_SHOWN = 25


@dataclass(frozen=True)
class AuditLine:
    created_at: datetime
    actor: str
    action: str
    target: str
    detail: str


async def _names(session: AsyncSession, firm_id: uuid.UUID) -> Names:
    return Names(
        await people_names(session, firm_id),
        await connection_owners(session, firm_id),
        await tenant_domains(session, firm_id),
    )


async def admin_extras(session: AsyncSession, actor: Actor, settings: Settings) -> dict[str, Any]:
    events = await audit.list_events(session, actor, limit=AUDIT_SHOWN)
    names = await _names(session, actor.firm_id)
    lines = [
        AuditLine(
            e.created_at,
            names.people.get(e.actor_user_id, "a former user") if e.actor_user_id else "CaseCal",
            action_label(e.action),
            target_label(e.target, names),
            detail_line(e.action, e.details or {}, names),
        )
        for e in events
    ]
    return {
        "approvals_waiting": len(await approvals.waiting(session, actor)),
        "consents": await consent_panel(session, actor, settings),
        "tenant_domains": names.tenants,
        "audit": lines,
    }


def manager_extras(manager: ManagerContext, settings: Settings) -> dict[str, Any]:
    conn = manager.connection.row if manager.connection else None
    waiting = manager.connection is not None and manager.connection.state.key == "awaiting_consent"
    if not waiting or conn is None or not conn.tenant_id:
        return {"consent_url": ""}
    if conn.provider is not ProviderName.MICROSOFT:  # a Workspace install: the firm admin's
        return {"consent_url": ""}
    return {"consent_url": admin_consent_url(settings, conn.tenant_id)}
