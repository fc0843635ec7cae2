"""SQLAlchemy 2 declarative tables of the host calendar, subscriptions and the outbox, split by
area (``tenancy``, ``entries``, ``sync_state``, ``auth``, ``audit``; ``base`` holds what they
share). Every name is re-exported here, so ``from casecal.store.tables import X`` is the one
way to import a table, and importing this package registers every table on ``Base.metadata``.

Every tenant-owned row carries ``firm_id``; repositories filter on it in every query.
"""

from __future__ import annotations

from casecal.domain.connection_status import ConnectionStatus
from casecal.domain.entries import EntryKind
from casecal.domain.window import Backfill
from casecal.store.tables.approvals import ConnectionApproval, TeamAdmin
from casecal.store.tables.audit import AuditEvent
from casecal.store.tables.auth import (
    IdentityAlias,
    OAuthState,
    SignInThrottle,
    TenantConsent,
    WebSession,
)
from casecal.store.tables.base import NAMING, Base, ProviderName, new_id, stored_enum, utcnow
from casecal.store.tables.entries import (
    ENTRY_TABLES,
    Appointment,
    Case,
    CaseAssignment,
    CourtDate,
    Interview,
    OutboxOp,
    OutboxRow,
    StepReminder,
)
from casecal.store.tables.sync_state import (
    ConflictRecord,
    Connection,
    Link,
    PushChannelRow,
    SyncCursor,
    SyncRun,
)
from casecal.store.tables.tenancy import (
    ApiToken,
    Firm,
    Role,
    Seat,
    Subscription,
    SubscriptionStatus,
    Team,
    User,
)

__all__ = [
    "ENTRY_TABLES",
    "NAMING",
    "ApiToken",
    "Appointment",
    "AuditEvent",
    "Backfill",
    "Base",
    "Case",
    "CaseAssignment",
    "ConflictRecord",
    "Connection",
    "ConnectionApproval",
    "ConnectionStatus",
    "CourtDate",
    "EntryKind",
    "Firm",
    "IdentityAlias",
    "Interview",
    "Link",
    "OAuthState",
    "OutboxOp",
    "OutboxRow",
    "ProviderName",
    "PushChannelRow",
    "Role",
    "Seat",
    "SignInThrottle",
    "StepReminder",
    "Subscription",
    "SubscriptionStatus",
    "SyncCursor",
    "SyncRun",
    "Team",
    "TeamAdmin",
    "TenantConsent",
    "User",
    "WebSession",
    "new_id",
    "stored_enum",
    "utcnow",
]
