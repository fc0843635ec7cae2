"""What the Calendar Sync pages read: the firm's subscription and seats, its active case
managers, a connection's latest run and whether its tenant's consent is recorded, and the
names the audit log and the consent panel show (people, connections, tenants' domains).
Reads only, each scoped to the firm it is given."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    Role,
    Seat,
    Subscription,
    SyncRun,
    TenantConsent,
    User,
)


async def subscription_of(session: AsyncSession, firm_id: uuid.UUID) -> Subscription | None:
    sub: Subscription | None = await session.scalar(
        select(Subscription).where(Subscription.firm_id == firm_id)
    )
    return sub


async def last_run(session: AsyncSession, connection_id: uuid.UUID) -> SyncRun | None:
    """The connection's newest sync run, if any ran."""
    run: SyncRun | None = await session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return run


async def consent_granted(session: AsyncSession, row: Connection) -> bool:
    """A connection awaiting consent whose tenant's consent the firm has recorded since."""
    if row.status is not ConnectionStatus.AWAITING_CONSENT or not row.tenant_id:
        return False
    status = await session.scalar(
        select(TenantConsent.status).where(
            TenantConsent.firm_id == row.firm_id, TenantConsent.tenant_id == row.tenant_id
        )
    )
    return status == "consented"


async def active_case_managers(session: AsyncSession, firm_id: uuid.UUID) -> list[User]:
    """The firm's active case managers, by name."""
    managers = await session.scalars(
        select(User)
        .where(User.firm_id == firm_id, User.role == Role.CASE_MANAGER, User.is_active)
        .order_by(User.name, User.id)
    )
    return list(managers)


async def seated_user_ids(session: AsyncSession, firm_id: uuid.UUID) -> set[uuid.UUID]:
    """The people of the firm who hold a Calendar Sync seat."""
    return set(await session.scalars(select(Seat.user_id).where(Seat.firm_id == firm_id)))


async def has_seat(session: AsyncSession, actor: Actor) -> bool:
    seat = await session.scalar(
        select(Seat.id).where(Seat.firm_id == actor.firm_id, Seat.user_id == actor.user_id)
    )
    return seat is not None


async def people_names(session: AsyncSession, firm_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Every user of the firm's name, by id (former users too: the audit log names them)."""
    people = await session.execute(select(User.id, User.name).where(User.firm_id == firm_id))
    return {row.id: row.name for row in people}


async def connection_owners(
    session: AsyncSession, firm_id: uuid.UUID
) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """Each connection of the firm's owner and provider, by connection id."""
    rows = await session.execute(
        select(Connection.id, Connection.user_id, Connection.provider).where(
            Connection.firm_id == firm_id
        )
    )
    return {cid: (uid, provider.value) for cid, uid, provider in rows.all()}


async def tenant_domains(session: AsyncSession, firm_id: uuid.UUID) -> dict[str, str]:
    """Each Microsoft tenant's domain, from the accounts seen there: connected accounts first,
    then the consenting admin, then the emails of the people waiting on it."""
    found: dict[str, str] = {}

    def note(tenant: str | None, email: str | None) -> None:
        domain = (email or "").rpartition("@")[2].lower()
        if tenant and domain and tenant not in found:
            found[tenant] = domain

    accounts = await session.execute(
        select(Connection.tenant_id, Connection.account_email, User.email)
        .join(User, User.id == Connection.user_id)
        .where(Connection.firm_id == firm_id, Connection.tenant_id.is_not(None))
    )
    rows = accounts.all()
    for tenant, account, _ in rows:
        note(tenant, account)
    consents = await session.execute(
        select(TenantConsent.tenant_id, TenantConsent.consented_by).where(
            TenantConsent.firm_id == firm_id
        )
    )
    for tenant, admin in consents.all():
        note(tenant, admin)
    for tenant, _, email in rows:
        note(tenant, email)
    return found
