"""Telling a case manager that their connection needs them: on "needs re-authorisation", one
email per lapse with a one-click re-authorise link. A lapse is identified by the connection and
the time it was last authorised, and the sent notice is recorded in the audit log."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.services import audit
from casecal.services.consents import consent_lost
from casecal.services.mail import send_mail
from casecal.store.tables import AuditEvent, Connection, ConnectionStatus, User

REAUTH_NOTICE = "token.reauth_notice"
LABELS = {"google": "Google Calendar", "microsoft": "Microsoft 365", "caldav": "CalDAV"}


def lapse_key(connection: Connection) -> str:
    stamp = connection.last_authorized_at.isoformat() if connection.last_authorized_at else "-"
    return f"connection:{connection.id}@{stamp}"


def reauthorise_link(settings: Settings, connection: Connection) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/calendar-sync/connect/{connection.provider.value}?modify={connection.id}"


async def connection_status_changed(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    connection_id: uuid.UUID,
    status: ConnectionStatus,
    reason: str,
) -> None:
    """The engine's ``on_status`` listener (wrap it with the sessionmaker and settings)."""
    if status is ConnectionStatus.AWAITING_CONSENT:  # a tenant's consent found withdrawn
        await consent_lost(sessionmaker, settings, connection_id)
        return
    if status is not ConnectionStatus.NEEDS_REAUTH:
        return
    async with sessionmaker() as session:
        connection = await session.get(Connection, connection_id)
        if connection is None or connection.status is not ConnectionStatus.NEEDS_REAUTH:
            return
        user = await session.get(User, connection.user_id)
        if user is None:
            return
        key = lapse_key(connection)
        sent = await session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.firm_id == connection.firm_id,
                AuditEvent.action == REAUTH_NOTICE,
                AuditEvent.target == key,
            )
        )
        if sent is not None:
            return
        audit.record(
            session,
            connection.firm_id,
            None,
            REAUTH_NOTICE,
            key,
            {"user_id": str(user.id), "reason": reason[:300]},
        )
        await session.commit()  # recorded before sending: a retry never sends twice
        link = reauthorise_link(settings, connection)
        label = LABELS.get(connection.provider.value, connection.provider.value)
    await send_mail(
        settings,
        user.email,
        "CaseCal: please re-authorise your calendar connection",
        f"Hello {user.name},\n\nCaseCal can no longer reach your {label} calendar "
        f"({connection.account_email or user.email}): the access you granted was revoked or "
        "has expired, so syncing has stopped. Nothing will be lost; syncing resumes where it "
        f"stopped once you sign in again.\n\nRe-authorise with one click:\n\n{link}\n",
    )
