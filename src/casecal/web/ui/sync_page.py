"""The data behind Setup > Subscriptions > Calendar Sync: the admin's subscription, seats and
each case manager's connection at a glance; the case manager's seat, connection, runs and
conflicts. Reads only; the forms that change things live in the route modules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services import connections as conn_svc
from casecal.services.access import Actor
from casecal.services.subscriptions import status_since
from casecal.store.tables import (
    ConflictRecord,
    Connection,
    ConnectionStatus,
    Role,
    Seat,
    Subscription,
    SubscriptionStatus,
    SyncRun,
    TenantConsent,
    User,
)
from casecal.web.ui.connection_states import ConnectionFacts, StateView, connection_state
from casecal.web.ui.views import PROVIDER_LABELS, counts_line

RUNS_SHOWN = 10


def was_authorised(row: Connection) -> bool:
    """The provider granted access at least once (so account and times mean something)."""
    return row.refresh_token_enc is not None or row.last_authorized_at is not None


@dataclass(frozen=True)
class ConnectionView:
    row: Connection
    state: StateView
    last_run: SyncRun | None

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS[self.row.provider]

    @property
    def authorised(self) -> bool:
        return was_authorised(self.row)

    @property
    def cleanup_waiting(self) -> int:
        """Events a clean-up would remove once confirmed (its run stopped at the guard), or 0."""
        run = self.last_run
        if run is None or run.trigger != "cleanup" or run.outcome != "paused":
            return 0
        return int((run.counts.get("guard") or {}).get("deletions", 0))

    @property
    def last_counts(self) -> str:
        return counts_line(self.last_run.counts) if self.last_run is not None else ""


@dataclass(frozen=True)
class ManagerRow:
    user: User
    has_seat: bool
    connection: ConnectionView | None


@dataclass(frozen=True)
class RunView:
    run: SyncRun
    counts: str


@dataclass
class ManagerContext:
    subscription: Subscription | None
    has_seat: bool
    connection: ConnectionView | None
    runs: list[RunView] = field(default_factory=list)
    conflicts: list[ConflictRecord] = field(default_factory=list)

    @property
    def can_connect(self) -> bool:
        active = self.subscription is not None and (
            self.subscription.status is SubscriptionStatus.ACTIVE
        )
        return active and self.has_seat


async def subscription_of(session: AsyncSession, firm_id: uuid.UUID) -> Subscription | None:
    sub: Subscription | None = await session.scalar(
        select(Subscription).where(Subscription.firm_id == firm_id)
    )
    return sub


async def _last_run(session: AsyncSession, connection_id: uuid.UUID) -> SyncRun | None:
    run: SyncRun | None = await session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return run


async def _consent_granted(session: AsyncSession, row: Connection) -> bool:
    if row.status is not ConnectionStatus.AWAITING_CONSENT or not row.tenant_id:
        return False
    status = await session.scalar(
        select(TenantConsent.status).where(
            TenantConsent.firm_id == row.firm_id, TenantConsent.tenant_id == row.tenant_id
        )
    )
    return status == "consented"


async def connection_view(session: AsyncSession, row: Connection) -> ConnectionView:
    last = await _last_run(session, row.id)
    facts = ConnectionFacts(
        row.status,
        authorised=was_authorised(row),
        syncing=last is not None and last.outcome == "running",
        reason=row.status_reason,
        consent_granted=await _consent_granted(session, row),
    )
    return ConnectionView(row, connection_state(facts), last)


def current_connections(rows: list[Connection]) -> dict[uuid.UUID, Connection]:
    """Each user's newest connection that is not disconnected."""
    current: dict[uuid.UUID, Connection] = {}
    for row in rows:  # ordered by creation, so later ones win
        if row.status is not ConnectionStatus.DISCONNECTED:
            current[row.user_id] = row
    return current


async def admin_context(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    subscription = await subscription_of(session, actor.firm_id)
    managers = await session.scalars(
        select(User)
        .where(User.firm_id == actor.firm_id, User.role == Role.CASE_MANAGER, User.is_active)
        .order_by(User.name, User.id)
    )
    seated = set(await session.scalars(select(Seat.user_id).where(Seat.firm_id == actor.firm_id)))
    current = current_connections(await conn_svc.list_connections(session, actor))
    rows = []
    for user in managers:
        row = current.get(user.id)
        view = await connection_view(session, row) if row is not None else None
        rows.append(ManagerRow(user, user.id in seated, view))
    since = status_since(subscription) if subscription is not None else None
    return {"subscription": subscription, "since": since, "managers": rows}


async def manager_context(session: AsyncSession, actor: Actor) -> ManagerContext:
    subscription = await subscription_of(session, actor.firm_id)
    seat = await session.scalar(
        select(Seat.id).where(Seat.firm_id == actor.firm_id, Seat.user_id == actor.user_id)
    )
    current = current_connections(await conn_svc.list_connections(session, actor))
    row = current.get(actor.user_id)
    context = ManagerContext(subscription, seat is not None, None)
    if row is not None:
        context.connection = await connection_view(session, row)
        runs = await conn_svc.list_runs(session, actor, row.id, limit=RUNS_SHOWN)
        context.runs = [RunView(run, counts_line(run.counts)) for run in runs]
        context.conflicts = await conn_svc.list_conflicts(session, actor)
    return context
