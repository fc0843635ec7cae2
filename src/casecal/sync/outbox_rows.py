"""Writing outbox rows: one per affected user and change, added to the session of the change
itself, so they commit (or roll back) together with it. The services write them for changes
made in CaseCal; the engine writes one when an incoming change leaves a newer version pending.
The users written for are noted for the commit hook that kicks their connections
(``casecal.sync.kicks``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.audience import audience_change
from casecal.store.tables import (
    Appointment,
    CourtDate,
    Interview,
    OutboxOp,
    OutboxRow,
    StepReminder,
    utcnow,
)

EntryRow = Appointment | CourtDate | Interview | StepReminder
CaseEntryRow = CourtDate | Interview | StepReminder

OUTBOX_USERS = "casecal_outbox_users"
"""``session.info`` key: the (firm id, user id) pairs this transaction wrote outbox rows for,
read by the commit hook that kicks their connections (``casecal.sync.kicks``)."""


def note_outbox_users(
    session: AsyncSession, firm_id: uuid.UUID, users: frozenset[uuid.UUID]
) -> None:
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = session.info.setdefault(OUTBOX_USERS, set())
    pairs.update((firm_id, user_id) for user_id in users)


def record(
    session: AsyncSession,
    entry: EntryRow,
    op: OutboxOp,
    users: frozenset[uuid.UUID],
    version: int,
) -> None:
    """Add one row per user (sorted, so the order of rows is deterministic), and note the
    users for the commit hook that kicks their connections (``sync.kicks``)."""
    note_outbox_users(session, entry.firm_id, users)
    now = utcnow()
    for user_id in sorted(users):
        session.add(
            OutboxRow(
                firm_id=entry.firm_id,
                user_id=user_id,
                entry_kind=entry.kind,
                entry_id=entry.id,
                entry_version=version,
                operation=op,
                created_at=now,
            )
        )


def record_update(
    session: AsyncSession,
    entry: EntryRow,
    before: frozenset[uuid.UUID],
    after: frozenset[uuid.UUID],
    version: int,
) -> None:
    """An updated entry: UPDATED for users who keep it, UNASSIGNED / ASSIGNED for the others."""
    change = audience_change(before, after)
    record(session, entry, OutboxOp.UPDATED, change.kept, version)
    record(session, entry, OutboxOp.UNASSIGNED, change.lost, version)
    record(session, entry, OutboxOp.ASSIGNED, change.gained, version)
