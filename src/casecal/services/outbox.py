"""Outbox rows: one per affected user and change, added to the session of the change itself,
so they commit (or roll back) together with it. Writing them lives in ``casecal.sync.outbox_rows``
(the engine writes them too, and sync does not import the services); this module adds who
sees an entry and keeps the old names importable."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.audience import appointment_audience, case_entry_audience
from casecal.store.tables import Appointment, CaseAssignment
from casecal.sync.outbox_rows import OUTBOX_USERS as OUTBOX_USERS
from casecal.sync.outbox_rows import CaseEntryRow as CaseEntryRow
from casecal.sync.outbox_rows import EntryRow as EntryRow
from casecal.sync.outbox_rows import note_outbox_users as note_outbox_users
from casecal.sync.outbox_rows import record as record
from casecal.sync.outbox_rows import record_update as record_update


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
