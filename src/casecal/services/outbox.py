"""Outbox rows: one per affected user and change, added to the session of the change itself,
so they commit (or roll back) together with it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.audience import appointment_audience, audience_change, case_entry_audience
from casecal.store.tables import (
    Appointment,
    CaseAssignment,
    CourtDate,
    Interview,
    OutboxOp,
    OutboxRow,
    StepReminder,
    utcnow,
)

EntryRow = Appointment | CourtDate | Interview | StepReminder
CaseEntryRow = CourtDate | Interview | StepReminder


async def case_manager_ids(session: AsyncSession, case_id: uuid.UUID) -> frozenset[uuid.UUID]:
    with session.no_autoflush:  # pending changes of the entry are not needed to read this
        rows = await session.execute(
            select(CaseAssignment.user_id).where(CaseAssignment.case_id == case_id)
        )
    return frozenset(rows.scalars())


async def audience_of(session: AsyncSession, entry: EntryRow) -> frozenset[uuid.UUID]:
    """The users whose calendars show ``entry`` in its current (unflushed) state."""
    if isinstance(entry, Appointment):
        return appointment_audience(entry.owner_id)
    managers = await case_manager_ids(session, entry.case_id)
    return case_entry_audience(entry.assigned_user_id, managers)


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
