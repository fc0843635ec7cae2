"""Connection, sync run and conflict models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from casecal.store.tables import Backfill, ConnectionStatus, EntryKind, ProviderName


class ConnectionPublic(BaseModel):
    """A case manager's link to one external calendar (never any token)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    provider: ProviderName
    status: ConnectionStatus = Field(
        description="`active`, `pending`, `needs_reauth`, `awaiting_consent`, "
        "`awaiting_approval` (an admin approves it under `/approvals`; nothing syncs before), "
        "`paused_deletions` (confirm with `POST .../confirm-deletions`), `paused_no_seat` "
        "(the user's seat was removed), `paused_subscription` (the firm's subscription is "
        "not active) or `disconnected`. A paused connection resumes from where it stopped "
        "when the seat or subscription is back."
    )
    status_reason: str = Field(description="Why the connection is in this state, in words.")
    account_email: str
    calendar_id: str | None
    calendar_name: str
    step_reminders: bool
    backfill: Backfill
    last_authorized_at: datetime | None
    last_sync_at: datetime | None
    activated_at: datetime | None
    cleanup_requested_at: datetime | None = Field(
        description="When the firm asked to remove the events CaseCal created in this calendar "
        "(`POST .../cleanup` on a paused connection); null when not asked or done."
    )


class SyncRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(
        description="`ok`, `paused`, `needs_reauth`, `awaiting_consent`, `failed`, "
        "`running` or `skipped:<status>`."
    )
    counts: dict[str, Any] = Field(
        description='Counts in and out by kind and operation, e.g. `{"out": '
        '{"court_date.create": 2}}`.'
    )
    error: str


class PassPublic(BaseModel):
    """The result of a pass run now."""

    run_id: uuid.UUID
    outcome: str
    counts: dict[str, Any]
    error: str


class ConflictPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    entry_kind: EntryKind
    entry_id: uuid.UUID
    winner: str = Field(description="`host` or `remote`: the version that was kept.")
    winner_snapshot: dict[str, Any]
    loser_snapshot: dict[str, Any] = Field(description="The version restore brings back.")
    created_at: datetime
    restored_at: datetime | None
