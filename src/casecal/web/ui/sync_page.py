"""The data behind Setup > Subscriptions > Calendar Sync: the admin's subscription, seats and
each case manager's connection at a glance; the case manager's seat, connection, runs and
conflicts. Reads only, through ``services.sync_view`` and ``services.connections``; the forms
that change things live in the route modules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services import approvals
from casecal.services import connections as conn_svc
from casecal.services.access import Actor
from casecal.services.connect import allowed_providers
from casecal.services.subscriptions import status_since
from casecal.services.sync_view import (
    active_case_managers,
    consent_granted,
    has_seat,
    last_run,
    seated_user_ids,
    subscription_of,
)
from casecal.store.tables import (
    ConflictRecord,
    Connection,
    ConnectionStatus,
    ProviderName,
    Subscription,
    SubscriptionStatus,
    SyncRun,
    User,
)
from casecal.sync.outcomes import PassOutcome
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
    providers: tuple[ProviderName, ...] = tuple(ProviderName)
    """The providers the user may connect (``providers.allowed``): the only buttons shown."""
    declined: str = ""
    """Why an admin declined the user's latest connection (shown until they connect again)."""
    approver: bool = False
    """The user administers a team, so they decide its connection approvals."""

    @property
    def can_connect(self) -> bool:
        active = self.subscription is not None and (
            self.subscription.status is SubscriptionStatus.ACTIVE
        )
        return active and self.has_seat


async def connection_view(session: AsyncSession, row: Connection) -> ConnectionView:
    last = await last_run(session, row.id)
    facts = ConnectionFacts(
        row.status,
        authorised=was_authorised(row),
        syncing=last is not None and last.outcome == PassOutcome.RUNNING,
        reason=row.status_reason,
        consent_granted=await consent_granted(session, row),
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
    managers = await active_case_managers(session, actor.firm_id)
    seated = await seated_user_ids(session, actor.firm_id)
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
    seated = await has_seat(session, actor)
    current = current_connections(await conn_svc.list_connections(session, actor))
    row = current.get(actor.user_id)
    context = ManagerContext(subscription, seated, None)
    context.providers = await allowed_providers(session, actor)
    context.approver = bool(await approvals.administered_teams(session, actor))
    if row is None:
        context.declined = await approvals.latest_decline(session, actor)
    if row is not None:
        context.connection = await connection_view(session, row)
        runs = await conn_svc.list_runs(session, actor, row.id, limit=RUNS_SHOWN)
        context.runs = [RunView(run, counts_line(run.counts)) for run in runs]
        context.conflicts = await conn_svc.list_conflicts(session, actor)
    return context
