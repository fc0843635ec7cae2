"""SQLAlchemy 2 declarative tables of the host calendar, subscriptions and the outbox.

Every tenant-owned row carries ``firm_id``; repositories filter on it in every query.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from casecal.domain.connection_status import ConnectionStatus as ConnectionStatus  # re-exported
from casecal.domain.entries import EntryKind as EntryKind  # re-exported for the store
from casecal.domain.window import Backfill as Backfill  # re-exported for the store
from casecal.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _enum(cls: type[enum.Enum]) -> Enum:
    """Enums stored as their values in a VARCHAR, so adding a member needs no DB type change."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    FIRM_ADMIN = "firm_admin"
    CASE_MANAGER = "case_manager"
    STAFF = "staff"


class SubscriptionStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    CANCELLED = "cancelled"


class OutboxOp(enum.StrEnum):
    """What happened to an entry, as seen by one affected user."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ASSIGNED = "assigned"  # the user newly sees the entry (case reassigned to them)
    UNASSIGNED = "unassigned"  # the user no longer sees the entry (case taken from them)


class Firm(Base):
    __tablename__ = "firms"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("firm_id", "name", name="uq_teams_firm_name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person of one firm. Emails are unique within a firm, not across firms (an address may
    belong to people of two firms; sign-in asks which)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("firm_id", "email", name="uq_users_firm_email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """The zone pages show times in for this user; NULL means the firm's zone."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """An API bearer token. Only its SHA-256 is stored; the token is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="api")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("firm_id", "number", name="uq_cases_firm_number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))
    beneficiary: Mapped[str] = mapped_column(String(200))
    case_type: Mapped[str] = mapped_column(String(100), default="")
    a_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignments: Mapped[list[CaseAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    @property
    def manager_ids(self) -> list[uuid.UUID]:
        return [a.user_id for a in self.assignments]


class CaseAssignment(Base):
    """A case manager assigned to a case."""

    __tablename__ = "case_assignments"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )


class _Entry:
    """Columns every host calendar entry has. ``version`` increases on every change and is the
    optimistic-locking column; ``deleted_at`` marks a tombstone kept for the sync engine.
    ``starts_at``/``ends_at`` are the UTC span used by range queries (``ends_at`` is NULL for a
    series without end)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]


class Appointment(_Entry, Base):
    __tablename__ = "appointments"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.APPOINTMENT

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    notes: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(500), default="")
    all_day: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    """Exclusive end date of an all-day entry (as in iCalendar)."""
    time_zone: Mapped[str] = mapped_column(String(64))
    attendees: Mapped[list[Any]] = mapped_column(default=list)
    reminder_minutes: Mapped[int | None]
    private: Mapped[bool] = mapped_column(default=False)
    show_as: Mapped[str] = mapped_column(String(16), default="busy")
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[Any]] = mapped_column(default=list)
    """Excluded occurrences (ISO dates for all-day series, ISO datetimes otherwise)."""
    overrides: Mapped[list[Any]] = mapped_column(default=list)
    """Occurrences changed on their own: ``{"original_start", "title", "start", "end",
    "location", "notes"}`` each, times as in ``exdates``."""
    origin: Mapped[str] = mapped_column(String(16), default="host")
    """``host`` when made in CaseCal, ``remote`` when imported from an external calendar."""
    shared: Mapped[bool] = mapped_column(default=False)
    """An imported appointment without a case is its owner's alone (firm admins see a busy
    block) until the owner shares it with the firm."""


class CourtDate(_Entry, Base):
    __tablename__ = "court_dates"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.COURT_DATE

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    hearing_type: Mapped[str] = mapped_column(String(200))
    court_name: Mapped[str] = mapped_column(String(300), default="")
    court_address: Mapped[str] = mapped_column(String(500), default="")
    judge: Mapped[str] = mapped_column(String(200), default="")
    courtroom: Mapped[str] = mapped_column(String(100), default="")
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=120)
    time_zone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")


class Interview(_Entry, Base):
    __tablename__ = "interviews"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.INTERVIEW

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    interview_type: Mapped[str] = mapped_column(String(200))
    office_name: Mapped[str] = mapped_column(String(300), default="")
    office_address: Mapped[str] = mapped_column(String(500), default="")
    officer: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=60)
    time_zone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")


class StepReminder(_Entry, Base):
    __tablename__ = "step_reminders"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.STEP_REMINDER

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    step_name: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date]
    reminder_date: Mapped[date | None]
    """The day the reminder shows; NULL means the due date."""
    notes: Mapped[str] = mapped_column(Text, default="")


ENTRY_TABLES: dict[EntryKind, type[Appointment | CourtDate | Interview | StepReminder]] = {
    EntryKind.APPOINTMENT: Appointment,
    EntryKind.COURT_DATE: CourtDate,
    EntryKind.INTERVIEW: Interview,
    EntryKind.STEP_REMINDER: StepReminder,
}


class Subscription(Base):
    """A firm's subscription to Calendar Sync (one per firm)."""

    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[SubscriptionStatus] = mapped_column(_enum(SubscriptionStatus))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class Seat(Base):
    """A case manager added to the firm's Calendar Sync subscription."""

    __tablename__ = "seats"
    __table_args__ = (UniqueConstraint("subscription_id", "user_id", name="uq_seats_sub_user"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxRow(Base):
    """One pending change of one entry for one affected user, written in the same transaction
    as the change. The sync engine drains rows per user and marks them processed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "user_id", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    entry_id: Mapped[uuid.UUID]
    entry_version: Mapped[int]
    operation: Mapped[OutboxOp] = mapped_column(_enum(OutboxOp))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


# --- Sync state: connections, cursors, links, conflicts, runs, audit ---------------------------


class ProviderName(enum.StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"


class Connection(Base):
    """A case manager's link to one external calendar. Tokens are stored encrypted."""

    __tablename__ = "connections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[ProviderName] = mapped_column(_enum(ProviderName))
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus))
    account_email: Mapped[str] = mapped_column(String(320), default="")
    account_subject: Mapped[str] = mapped_column(String(128), default="")
    """Google ``sub`` or Microsoft ``oid`` of the authorised account, once bound."""
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    """Microsoft ``tid``."""
    calendar_id: Mapped[str | None] = mapped_column(String(1024))
    calendar_name: Mapped[str] = mapped_column(String(300), default="")
    step_reminders: Mapped[bool] = mapped_column(default=False)
    backfill: Mapped[Backfill] = mapped_column(_enum(Backfill), default=Backfill.UPCOMING)
    import_private_details: Mapped[bool] = mapped_column(default=False)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(Text, default="")
    activated_at: Mapped[datetime | None]
    last_authorized_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    status_reason: Mapped[str] = mapped_column(Text, default="")
    confirmed_deletions: Mapped[int] = mapped_column(default=0)
    """Deletions a person confirmed through the API; releases the mass-delete guard once."""
    sync_requested_at: Mapped[datetime | None]
    """Set by any trigger (outbox, webhook, sync now); cleared when a pass starts."""
    next_poll_at: Mapped[datetime | None]
    backoff_until: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    cleanup_requested_at: Mapped[datetime | None]
    """The firm asked to remove the events CaseCal created in this calendar (after a seat or
    the subscription ended); the clean-up goes through the mass-delete guard."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncCursor(Base):
    """The change-feed cursor of one connection. Bumping ``version`` above ``synced_version``
    forces one full resync (the gcal_sync idea)."""

    __tablename__ = "sync_cursors"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    cursor: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    synced_version: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Link(Base):
    """One host entry <-> one remote event of one connection, with both sides' fingerprints as
    last synced (the no-echo rule) and a tombstone time once either side is gone."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("connection_id", "entry_kind", "entry_id", name="uq_links_entry"),
        UniqueConstraint("connection_id", "remote_id", name="uq_links_remote"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    entry_kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    entry_id: Mapped[uuid.UUID]
    remote_id: Mapped[str] = mapped_column(String(1024))
    remote_etag: Mapped[str] = mapped_column(String(256), default="")
    host_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    remote_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    host_version: Mapped[int] = mapped_column(default=0)
    tombstoned_at: Mapped[datetime | None]
    remote_delete_respected: Mapped[bool] = mapped_column(default=False)
    occurrences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """For a series: each occurrence changed on its own, as last synced (slot key -> digest
    of the override both sides held), so an echo of our own write is told from a change."""
    """The tombstone marks a remote delete the firm's policy respected (not one we made)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConflictRecord(Base):
    """Both sides changed since the last sync: the policy's winner was applied, the loser kept
    here so the user can see and restore it."""

    __tablename__ = "conflicts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    entry_kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    entry_id: Mapped[uuid.UUID]
    winner: Mapped[str] = mapped_column(String(16))
    """``host`` or ``remote``."""
    winner_snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    loser_snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    restored_at: Mapped[datetime | None]


class SyncRun(Base):
    """One sync pass of one connection: when, why, what it did, how it ended."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_connection_started", "connection_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    trigger: Mapped[str] = mapped_column(String(32), default="manual")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Counts in and out by kind and operation, e.g. ``{"out": {"court_date": {"create": 2}}}``."""
    error: Mapped[str] = mapped_column(Text, default="")


class AuditEvent(Base):
    """An admin-visible record of subscription, seat, connection, consent and token events."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_firm_created", "firm_id", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Sign-in, OAuth, consent and push ----------------------------------------------------------


class OAuthState(Base):
    """One authorisation request in flight: single-use, bound to the browser session that
    started it, expiring after 10 minutes. The PKCE verifier and nonce never leave the server."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[ProviderName] = mapped_column(_enum(ProviderName))
    purpose: Mapped[str] = mapped_column(String(32), default="connect")
    """``connect`` (a case manager's calendar) or ``admin_consent`` (a Microsoft tenant)."""
    browser_binding: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the signed-in browser session the request belongs to."""
    code_verifier: Mapped[str] = mapped_column(String(128), default="")
    nonce: Mapped[str] = mapped_column(String(128), default="")
    redirect_uri: Mapped[str] = mapped_column(String(500))
    connection_id: Mapped[uuid.UUID | None]
    """The connection being re-authorised (Modify), if any."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class TenantConsent(Base):
    """A Microsoft tenant's admin consent for CaseCal, as known to one firm."""

    __tablename__ = "tenant_consents"
    __table_args__ = (UniqueConstraint("firm_id", "tenant_id", name="uq_tenant_consents_tenant"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="required")
    """``required`` (a case manager hit AADSTS90094/65001) or ``consented``."""
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    consented_at: Mapped[datetime | None]
    consented_by: Mapped[str] = mapped_column(String(320), default="")


class IdentityAlias(Base):
    """An admin-approved external account for a case manager whose provider identity does not
    match their CaseCal email (the identity guard accepts it)."""

    __tablename__ = "identity_aliases"
    __table_args__ = (
        UniqueConstraint("firm_id", "provider", "account_email", name="uq_identity_aliases"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[ProviderName] = mapped_column(_enum(ProviderName))
    account_email: Mapped[str] = mapped_column(String(320))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushChannelRow(Base):
    """A Google watch channel or Graph subscription of one connection. The secret (channel
    token / clientState) is stored as an HMAC-SHA256 digest and compared in constant time."""

    __tablename__ = "push_channels"
    __table_args__ = (UniqueConstraint("provider", "channel_id", name="uq_push_channels_channel"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[ProviderName] = mapped_column(_enum(ProviderName))
    channel_id: Mapped[str] = mapped_column(String(256))
    resource_id: Mapped[str | None] = mapped_column(String(256))
    secret_digest: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    last_message_number: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), default=0
    )
    last_valid_at: Mapped[datetime | None]
    """When the channel last delivered a notification whose secret checked out."""
    last_refused_at: Mapped[datetime | None]
    """When a delivery for this channel was last refused (wrong secret, malformed)."""
    last_unnumbered_at: Mapped[datetime | None]
    """When the last notification without a message number was accepted (replay window)."""


class SignInThrottle(Base):
    """Failed sign-in counters shared by every process: one row per key (an email, an email
    seen from a trusted device, a client address), each expiring on its own."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    """SHA-256 of the throttled subject (``email:``, ``device:``, ``addr:`` prefixes)."""
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
