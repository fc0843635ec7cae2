"""Admin approval of each connection (``connections.require_approval``): a case manager's
authorised connection waits as ``awaiting_approval`` until a firm admin, or an admin of the
case manager's team, approves it (it becomes active and its first pass is kicked) or declines
it (with a reason the case manager sees; the tokens are wiped). Nothing syncs while it waits:
the engine, the scheduler and the push channels serve active connections only.

Who decides: a firm admin, any connection of the firm; a team admin (``TeamAdmin``), the
connections of their team's members only. Anyone else, or another firm's admin, finds nothing
(404). Every request, approval and decline is audit-logged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.config import Settings
from casecal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from casecal.services import audit
from casecal.services.access import Actor, require_admin
from casecal.services.mail import send_mail
from casecal.store.tables import (
    Connection,
    ConnectionApproval,
    ConnectionStatus,
    ProviderName,
    Role,
    Team,
    TeamAdmin,
    User,
    utcnow,
)
from casecal.sync.outbox_rows import note_outbox_users
from casecal.sync.settings_query import effective_for

_Query = Select[Connection, ConnectionApproval, User]
SETTING = "connections.require_approval"
APPROVED, DECLINED = "approved", "declined"
WAITING_REASON = (
    "Your firm asks an admin to approve each calendar connection. Your calendar is authorised "
    "and will start syncing as soon as it is approved."
)
MAX_REASON = 1000
PROVIDER_LABELS = {"microsoft": "Microsoft 365", "google": "Google", "caldav": "CalDAV"}


@dataclass(frozen=True)
class WaitingApproval:
    connection_id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    user_email: str
    team_name: str
    provider: ProviderName
    account_email: str
    calendar_name: str
    requested_at: datetime


async def required_for(session: AsyncSession, firm_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether the user's new connections wait for an admin (the firm's or team's setting)."""
    return (await effective_for(session, firm_id, user_id)).flag(SETTING)


async def hold(session: AsyncSession, actor: Actor, conn: Connection) -> bool:
    """Make ``conn`` wait for approval when the setting asks for it and it was never approved
    (a connection approved once is not held again when it is re-authorised or its calendar
    changes). True when it now waits; the caller commits."""
    row = await session.scalar(
        select(ConnectionApproval).where(
            ConnectionApproval.firm_id == conn.firm_id,
            ConnectionApproval.connection_id == conn.id,
        )
    )
    if row is not None and row.decision == APPROVED:
        return False
    if row is None and conn.activated_at is not None:
        return False  # it synced before the firm asked for approvals: not a new connection
    if not await required_for(session, conn.firm_id, conn.user_id):
        return False
    if row is None:
        row = ConnectionApproval(
            id=uuid.uuid4(), firm_id=conn.firm_id, connection_id=conn.id, user_id=conn.user_id
        )
        session.add(row)
    row.decision, row.decided_at, row.decided_by, row.reason = "", None, None, ""
    row.requested_at = utcnow()
    conn.status, conn.status_reason = ConnectionStatus.AWAITING_APPROVAL, WAITING_REASON
    conn.sync_requested_at = None
    audit.record(
        session,
        conn.firm_id,
        actor.user_id,
        "connection.approval_requested",
        f"connection:{conn.id}",
        {"provider": conn.provider.value, "account_email": conn.account_email},
    )
    return True


async def administered_teams(session: AsyncSession, actor: Actor) -> list[uuid.UUID]:
    """The teams ``actor`` administers (a firm admin needs none: they see the whole firm)."""
    rows = await session.scalars(
        select(TeamAdmin.team_id).where(
            TeamAdmin.firm_id == actor.firm_id, TeamAdmin.user_id == actor.user_id
        )
    )
    return list(rows.all())


async def _scoped(session: AsyncSession, actor: Actor, query: _Query) -> _Query:
    """``query`` narrowed to what ``actor`` may decide: the firm (firm admin), their teams'
    members (team admin); nothing for anyone else."""
    query = query.where(Connection.firm_id == actor.firm_id)
    if actor.is_admin:
        return query
    teams = await administered_teams(session, actor)
    if not teams:
        raise PermissionDenied("only a firm admin or a team admin may decide connection approvals")
    return query.where(User.team_id.in_(teams))


def _base() -> _Query:
    return (
        select(Connection, ConnectionApproval, User)
        .join(ConnectionApproval, ConnectionApproval.connection_id == Connection.id)
        .join(User, User.id == Connection.user_id)
        .where(
            ConnectionApproval.firm_id == Connection.firm_id,
            User.firm_id == Connection.firm_id,
        )
    )


async def waiting(session: AsyncSession, actor: Actor) -> list[WaitingApproval]:
    """The connections waiting for ``actor``'s decision, oldest request first."""
    query = await _scoped(
        session,
        actor,
        _base()
        .where(
            Connection.status == ConnectionStatus.AWAITING_APPROVAL,
            ConnectionApproval.decision == "",
        )
        .order_by(ConnectionApproval.requested_at, Connection.id),
    )
    rows = (await session.execute(query)).all()
    team_ids = {u.team_id for _, _, u in rows if u.team_id is not None}
    names: dict[uuid.UUID, str] = {}
    if team_ids:
        found = await session.execute(
            select(Team.id, Team.name).where(Team.firm_id == actor.firm_id, Team.id.in_(team_ids))
        )
        names = {row.id: row.name for row in found.all()}
    return [
        WaitingApproval(
            connection_id=conn.id,
            user_id=user.id,
            user_name=user.name,
            user_email=user.email,
            team_name=names.get(user.team_id, "") if user.team_id else "",
            provider=conn.provider,
            account_email=conn.account_email,
            calendar_name=conn.calendar_name,
            requested_at=approval.requested_at,
        )
        for conn, approval, user in rows
    ]


async def _waiting_one(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID
) -> tuple[Connection, ConnectionApproval, User]:
    query = await _scoped(session, actor, _base().where(Connection.id == connection_id))
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise NotFound("no such connection waiting for approval")
    conn, approval, user = found
    if conn.status is not ConnectionStatus.AWAITING_APPROVAL or approval.decision:
        raise Conflict("this connection is not waiting for approval")
    return conn, approval, user


async def approve(session: AsyncSession, actor: Actor, connection_id: uuid.UUID) -> Connection:
    """Approve a waiting connection: it becomes active and its first pass is asked for at once
    (the after-commit trigger kicks the user's active connections, as a saved entry does)."""
    conn, approval, user = await _waiting_one(session, actor, connection_id)
    now = utcnow()
    approval.decision, approval.decided_at, approval.decided_by = APPROVED, now, actor.user_id
    conn.status, conn.status_reason = ConnectionStatus.ACTIVE, ""
    conn.activated_at = conn.activated_at or now
    conn.sync_requested_at = now
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.approved",
        f"connection:{conn.id}",
        {"user_email": user.email, "account_email": conn.account_email},
    )
    note_outbox_users(session, actor.firm_id, frozenset({conn.user_id}))
    await session.commit()
    return conn


async def decline(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, reason: str
) -> Connection:
    """Decline a waiting connection with a reason the case manager sees on Calendar Sync. The
    connection is disconnected (its tokens wiped; CaseCal never used them)."""
    why = " ".join(reason.split())
    if not why:
        raise ValidationFailed("say why the connection is declined", field="reason")
    if len(why) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters", field="reason")
    if any(ord(c) < 32 or ord(c) == 127 for c in why):
        raise ValidationFailed("the reason may not hold control characters", field="reason")
    conn, approval, user = await _waiting_one(session, actor, connection_id)
    admin = await session.get(User, actor.user_id)
    approval.decision, approval.decided_at, approval.decided_by = DECLINED, utcnow(), actor.user_id
    approval.reason = why
    conn.refresh_token_enc = conn.access_token_enc = conn.access_token_expires_at = None
    conn.status = ConnectionStatus.DISCONNECTED
    conn.sync_requested_at = None
    conn.status_reason = (
        f"{admin.name if admin is not None else 'Your admin'} declined this connection: {why}"
    )
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.declined",
        f"connection:{conn.id}",
        {"user_email": user.email, "account_email": conn.account_email, "reason": why},
    )
    await session.commit()
    return conn


async def latest_decline(session: AsyncSession, actor: Actor) -> str:
    """The reason shown to a case manager whose latest connection was declined (empty when
    their latest connection was not)."""
    found = await session.execute(
        select(Connection.status_reason, ConnectionApproval.decision)
        .outerjoin(ConnectionApproval, ConnectionApproval.connection_id == Connection.id)
        .where(Connection.firm_id == actor.firm_id, Connection.user_id == actor.user_id)
        .order_by(Connection.created_at.desc(), Connection.id.desc())
        .limit(1)
    )
    row = found.one_or_none()
    return str(row[0]) if row is not None and row[1] == DECLINED else ""


async def name_team_admin(
    session: AsyncSession, actor: Actor, team_id: uuid.UUID, user_id: uuid.UUID
) -> TeamAdmin:
    """A firm admin names ``user_id`` (a member of the firm) an admin of ``team_id``."""
    require_admin(actor, "name team admins")
    team = await session.get(Team, team_id)
    user = await session.get(User, user_id)
    if team is None or team.firm_id != actor.firm_id:
        raise NotFound("no such team")
    if user is None or user.firm_id != actor.firm_id:
        raise NotFound("no such user")
    row = await session.get(TeamAdmin, (team_id, user_id))
    if row is None:
        row = TeamAdmin(team_id=team_id, user_id=user_id, firm_id=actor.firm_id)
        session.add(row)
        details = {"team_id": str(team_id), "user_email": user.email}
        audit.record(session, actor.firm_id, actor.user_id, "team.admin_named",
                     f"team:{team.name}", details)  # fmt: skip
        await session.commit()
    return row


async def remove_team_admin(
    session: AsyncSession, actor: Actor, team_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    require_admin(actor, "remove team admins")
    row = await session.get(TeamAdmin, (team_id, user_id))
    if row is None or row.firm_id != actor.firm_id:
        raise NotFound("no such team admin")
    team = await session.get(Team, team_id)
    await session.delete(row)
    audit.record(session, actor.firm_id, actor.user_id, "team.admin_removed",
                 f"team:{team.name if team else team_id}", {"user_id": str(user_id)})  # fmt: skip
    await session.commit()


async def tell_approvers(
    session: AsyncSession, settings: Settings, connection_id: uuid.UUID
) -> int:
    """Mail who may decide a waiting connection (the firm's active admins and the admins of its
    owner's team) the queue's link; the number of people told."""
    conn = await session.get(Connection, connection_id)
    if conn is None or conn.status is not ConnectionStatus.AWAITING_APPROVAL:
        return 0
    owner = await session.get(User, conn.user_id)
    if owner is None:
        return 0
    firm_admins = User.role == Role.FIRM_ADMIN
    team_admins = User.id.in_(
        select(TeamAdmin.user_id).where(
            TeamAdmin.firm_id == conn.firm_id, TeamAdmin.team_id == owner.team_id
        )
    )
    deciders = or_(firm_admins, team_admins) if owner.team_id is not None else firm_admins
    people = (
        await session.scalars(
            select(User).where(User.firm_id == conn.firm_id, User.is_active, deciders)
        )
    ).all()
    label = PROVIDER_LABELS.get(conn.provider.value, conn.provider.value)
    link = f"{settings.base_url.rstrip('/')}/calendar-sync/approvals"
    for person in people:
        await send_mail(
            settings, person.email, "CaseCal: a calendar connection waits for your approval",
            f"Hello {person.name},\n\n{owner.name} ({owner.email}) connected their {label} "
            f"calendar ({conn.account_email}). Your firm asks an admin to approve each "
            f"connection; nothing syncs until then. Approve or decline it here:\n\n{link}\n",
        )  # fmt: skip
    return len(people)
