"""A case manager waiting on their organisation's consent asks their firm admins for it from
CaseCal (Microsoft's own "Request approval" button lives on a page they have already left):
each active firm admin gets, by email, the tenant-wide consent link (Microsoft 365) or the way
to install CaseCal for the Workspace domain (Google), and the request is audit-logged."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.errors import Conflict, NotFound
from casecal.services import audit
from casecal.services.access import Actor
from casecal.services.consents import admin_consent_url
from casecal.services.mail import send_mail
from casecal.store.tables import Connection, ConnectionStatus, ProviderName, Role, User


async def request_approval(
    session: AsyncSession, settings: Settings, actor: Actor, connection_id: uuid.UUID
) -> int:
    """Mail the consent link to the firm's admins; the number of admins asked."""
    conn = await session.get(Connection, connection_id)
    if conn is None or conn.firm_id != actor.firm_id or conn.user_id != actor.user_id:
        raise NotFound("no such connection")
    if conn.status is not ConnectionStatus.AWAITING_CONSENT or not conn.tenant_id:
        raise Conflict("this connection is not waiting for admin consent")
    me = await session.get(User, actor.user_id)
    admins = (
        await session.scalars(
            select(User).where(
                User.firm_id == actor.firm_id, User.role == Role.FIRM_ADMIN, User.is_active
            )
        )
    ).all()
    audit.record(session, actor.firm_id, actor.user_id, "consent.approval_requested",
                 f"tenant:{conn.tenant_id}", {"connection_id": str(conn.id)})  # fmt: skip
    await session.commit()
    who = f"{me.name} ({me.email})" if me is not None else "A case manager"
    base = settings.base_url.rstrip("/")
    page = f"{base}/calendar-sync"
    if conn.provider is ProviderName.GOOGLE:  # the Workspace domain's install, from CaseCal
        body = (
            f"{who} asks you to approve CaseCal for their Google Workspace domain "
            f"({conn.tenant_id}), whose administrator blocks it for now.\n\nA super "
            "administrator of that domain installs CaseCal for everyone from CaseCal's Firm "
            "settings (Install for your entire Google Workspace domain):\n\n"
            f"{base}/firm-settings\n"
        )
    else:
        body = (
            f"{who} asks you to approve CaseCal for their Microsoft 365 organisation, which "
            "lets only an administrator approve apps.\n\nA Global Administrator of that "
            "organisation opens this tenant-wide consent link:\n\n"
            f"{admin_consent_url(settings, conn.tenant_id)}\n\nor grants consent from "
            f"Calendar Sync in CaseCal, under Microsoft admin consent:\n\n{page}\n"
        )
    for admin in admins:
        await send_mail(
            settings, admin.email, "CaseCal: approval requested for Calendar Sync", body
        )
    return len(admins)
