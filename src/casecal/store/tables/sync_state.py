"""Sync state: connections to external calendars, their cursors, the links between entries
and remote events, kept conflicts, the log of passes, and push channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casecal.domain.connection_status import ConnectionStatus
from casecal.domain.entries import EntryKind
from casecal.domain.window import Backfill
from casecal.store.tables.base import Base, ProviderName, new_id, stored_enum, utcnow


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
    provider: Mapped[ProviderName] = mapped_column(stored_enum(ProviderName))
    status: Mapped[ConnectionStatus] = mapped_column(stored_enum(ConnectionStatus))
    account_email: Mapped[str] = mapped_column(String(320), default="")
    account_subject: Mapped[str] = mapped_column(String(128), default="")
    """Google ``sub`` or Microsoft ``oid`` of the authorised account, once bound."""
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    """Microsoft ``tid``."""
    calendar_id: Mapped[str | None] = mapped_column(String(1024))
    calendar_name: Mapped[str] = mapped_column(String(300), default="")
    step_reminders: Mapped[bool] = mapped_column(default=False)
    backfill: Mapped[Backfill] = mapped_column(stored_enum(Backfill), default=Backfill.UPCOMING)
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
    settings_digest: Mapped[str] = mapped_column(String(64), default="")
    """``EffectiveSettings.shape_digest`` of the settings the calendar was last planned with
    (which kinds sync, how they look); a pass that finds it changed plans every entry again.
    Empty: not recorded yet (a cursor from before settings took effect)."""
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
    entry_kind: Mapped[EntryKind] = mapped_column(stored_enum(EntryKind))
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
    entry_kind: Mapped[EntryKind] = mapped_column(stored_enum(EntryKind))
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
    provider: Mapped[ProviderName] = mapped_column(stored_enum(ProviderName))
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
