"""What the four entry kinds share: firm-scoped reads, range listing, tombstone deletes and
saving a change together with its outbox rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from casecal.domain.validation import MAX_YEAR, MIN_YEAR
from casecal.errors import Conflict, PermissionDenied, ValidationFailed
from casecal.services.access import Actor, require_editor
from casecal.services.lookups import get_in_firm
from casecal.services.outbox import EntryRow, audience_of, record, record_update
from casecal.services.paging import Page, fetch_page
from casecal.services.privacy import require_full, visible
from casecal.store.tables import Appointment, OutboxOp, utcnow

E = TypeVar("E", bound=EntryRow)


def check_range(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValidationFailed(f"{name} must carry a UTC offset", field=name)
        if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValidationFailed(f"{name} is outside {MIN_YEAR}..{MAX_YEAR}", field=name)
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("end must be after start", field="end")


async def list_entries(
    session: AsyncSession,
    actor: Actor,
    model: type[E],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    case_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> Page[E]:
    """Live entries of the firm overlapping [start, end): an entry that spans a boundary is
    included; a series without end (``ends_at`` NULL) overlaps everything after its start.
    Appointments the actor may not see at all are left out (``services.privacy``); the caller
    shows the rest through ``privacy.public``."""
    check_range(start, end)
    query = select(model).where(model.firm_id == actor.firm_id, model.deleted_at.is_(None))
    if end is not None:
        query = query.where(model.starts_at < end)
    if start is not None:
        query = query.where(or_(model.ends_at.is_(None), model.ends_at > start))
    if case_id is not None:
        query = query.where(model.case_id == case_id)
    if model is Appointment:
        query = query.where(visible(actor))  # others' personal imports are left out
    return await fetch_page(
        session, query, order_by=(model.starts_at, model.id), limit=limit, offset=offset
    )


async def get_entry(session: AsyncSession, actor: Actor, model: type[E], entry_id: uuid.UUID) -> E:
    return await get_in_firm(session, model, entry_id, actor.firm_id, live_only=True)


def check_appointment_owner(actor: Actor, owner_id: uuid.UUID) -> None:
    if not actor.is_admin and owner_id != actor.user_id:
        raise PermissionDenied("a case manager may only manage their own appointments")


async def commit(session: AsyncSession) -> None:
    """Commit, turning a lost race (stale version, duplicate key) into a 409."""
    try:
        await session.commit()
    except StaleDataError:
        await session.rollback()
        raise Conflict("the entry was changed by someone else; reload and retry") from None
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"the change clashes with existing data: {exc.orig}") from None


async def save_new(session: AsyncSession, entry: EntryRow) -> None:
    """Insert ``entry`` (version 1) with a CREATED row for each affected user."""
    entry.version = 1
    session.add(entry)
    record(session, entry, OutboxOp.CREATED, await audience_of(session, entry), 1)
    await commit(session)


async def save_update(
    session: AsyncSession, entry: EntryRow, before: frozenset[uuid.UUID], changed: bool
) -> None:
    """Store a changed entry: its version goes up by one and the outbox rows carry it."""
    if not changed:
        return
    new_version = entry.version + 1
    entry.updated_at = utcnow()
    record_update(session, entry, before, await audience_of(session, entry), new_version)
    await commit(session)
    if entry.version != new_version:  # the mapper's version counter is +1 by construction
        raise RuntimeError(f"version {entry.version} != expected {new_version}")


def assign(entry: Any, values: dict[str, Any]) -> bool:
    """Set the attributes in ``values`` that differ; True if any did."""
    changed = False
    for key, value in values.items():
        if getattr(entry, key) != value:
            setattr(entry, key, value)
            changed = True
    return changed


async def delete_entry(
    session: AsyncSession, actor: Actor, model: type[E], entry_id: uuid.UUID
) -> None:
    """Tombstone the entry: ``deleted_at`` set, version bumped, DELETED rows written."""
    entry = await get_entry(session, actor, model, entry_id)
    if isinstance(entry, Appointment):
        require_full(actor, entry)
    require_editor(actor, "delete entries")
    if isinstance(entry, Appointment):
        check_appointment_owner(actor, entry.owner_id)
    users = await audience_of(session, entry)
    new_version = entry.version + 1
    now = utcnow()
    entry.deleted_at = now
    entry.updated_at = now
    record(session, entry, OutboxOp.DELETED, users, new_version)
    await commit(session)
