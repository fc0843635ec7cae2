"""Connection use cases: list and read connections, run a pass now, the run log, the mass-delete
confirmation, and conflicts with their restore. A case manager sees their own; an admin all."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import overrides
from casecal.domain.mapping import strip_footer
from casecal.domain.visibility import View
from casecal.errors import Conflict, NotFound
from casecal.services import audit, privacy
from casecal.services.access import Actor, require_admin, require_editor
from casecal.services.appointments import update_appointment
from casecal.services.entitlements import PAUSED_STATES
from casecal.services.entries import delete_entry
from casecal.services.paging import MAX_LIMIT, Page, fetch_page
from casecal.store.tables import (
    Appointment,
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    SyncRun,
    utcnow,
)
from casecal.sync.cleanup import clean_up
from casecal.sync.engine import PassReport, SyncEngine
from casecal.sync.outcomes import PassOutcome


async def _visible(session: AsyncSession, actor: Actor, connection_id: uuid.UUID) -> Connection:
    row = await session.get(Connection, connection_id)
    if row is None or row.firm_id != actor.firm_id:
        raise NotFound("no such connection")
    if not actor.is_admin and row.user_id != actor.user_id:
        raise NotFound("no such connection")  # others' connections are not even confirmed
    return row


def _connections(actor: Actor) -> Select[Any]:
    query = select(Connection).where(Connection.firm_id == actor.firm_id)
    if not actor.is_admin:
        query = query.where(Connection.user_id == actor.user_id)
    return query


async def list_connections(session: AsyncSession, actor: Actor) -> list[Connection]:
    """All the connections the actor sees (the pages' view: a user has a handful)."""
    return list((await session.scalars(_connections(actor).order_by(Connection.created_at))).all())


async def page_connections(
    session: AsyncSession, actor: Actor, *, limit: int, offset: int
) -> Page[Connection]:
    order = (Connection.created_at, Connection.id)
    return await fetch_page(
        session, _connections(actor), order_by=order, limit=limit, offset=offset
    )


async def get_connection(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    return await _visible(session, actor, connection_id)


async def sync_now(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, engine: SyncEngine
) -> PassReport:
    row = await _visible(session, actor, connection_id)
    if row.status is not ConnectionStatus.ACTIVE:
        raise Conflict(f"the connection is {row.status.value}: {row.status_reason or 'not active'}")
    await session.close()
    report = await engine.run_pass(actor.firm_id, connection_id, trigger="sync_now", wait=30)
    if report.outcome is PassOutcome.BUSY:
        raise Conflict("a pass of this connection is still running; try again in a moment")
    return report


async def list_runs(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, *, limit: int
) -> list[SyncRun]:
    await _visible(session, actor, connection_id)
    query = (
        select(SyncRun)
        .where(SyncRun.firm_id == actor.firm_id, SyncRun.connection_id == connection_id)
        .order_by(SyncRun.started_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def confirm_deletions(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    """Release a connection paused by the mass-delete guard for the deletions it reported,
    or allow the clean-up asked for a paused connection (which stays paused)."""
    row = await _visible(session, actor, connection_id)
    cleanup = row.status in PAUSED_STATES and row.cleanup_requested_at is not None
    if row.status is not ConnectionStatus.PAUSED_DELETIONS and not cleanup:
        raise Conflict("the connection is not waiting for a deletion confirmation")
    last = await session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == row.id, SyncRun.outcome == PassOutcome.PAUSED.value)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    guard = (last.counts.get("guard") if last is not None else None) or {}
    row.confirmed_deletions = max(int(guard.get("deletions", 0)), int(guard.get("linked", 0)))
    if not cleanup:
        row.status, row.status_reason = ConnectionStatus.ACTIVE, ""
    await session.commit()
    return row


async def request_cleanup(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, engine: SyncEngine
) -> PassReport:
    """The firm asks to remove the events CaseCal created in the calendar of a connection
    paused by a removed seat or a cancelled subscription; runs it now (``sync.cleanup``)."""
    require_admin(actor, "ask for a calendar's clean-up")
    row = await _visible(session, actor, connection_id)
    if row.status not in PAUSED_STATES:
        raise Conflict(
            "clean-up is only for a connection paused by a removed seat or a cancelled "
            f"subscription (this one is {row.status.value})"
        )
    if row.cleanup_requested_at is None:
        row.cleanup_requested_at = utcnow()
        audit.record(session, actor.firm_id, actor.user_id, "connection.cleanup_requested",
                     f"connection:{row.id}", {"user_id": str(row.user_id)})  # fmt: skip
    await session.commit()
    await session.close()
    report = await clean_up(engine, actor.firm_id, connection_id)
    if report.outcome is PassOutcome.BUSY:
        raise Conflict("a pass of this connection is still running; try again in a moment")
    return report


def _conflicts(actor: Actor, *, include_restored: bool) -> Select[Any]:
    query = select(ConflictRecord).where(ConflictRecord.firm_id == actor.firm_id)
    if not actor.is_admin:
        mine = select(Connection.id).where(
            Connection.firm_id == actor.firm_id, Connection.user_id == actor.user_id
        )
        query = query.where(ConflictRecord.connection_id.in_(mine))
    if not include_restored:
        query = query.where(ConflictRecord.restored_at.is_(None))
    return query


async def list_conflicts(
    session: AsyncSession, actor: Actor, *, include_restored: bool = False, limit: int = MAX_LIMIT
) -> list[ConflictRecord]:
    """The newest ``limit`` conflicts the actor sees (the pages' view)."""
    query = _conflicts(actor, include_restored=include_restored)
    order = (ConflictRecord.created_at.desc(), ConflictRecord.id)
    return list((await session.scalars(query.order_by(*order).limit(limit))).all())


async def page_conflicts(
    session: AsyncSession, actor: Actor, *, include_restored: bool, limit: int, offset: int
) -> Page[ConflictRecord | dict[str, Any]]:
    """One page of the conflicts the actor sees, newest first; both versions of an
    appointment the actor may not read in full are busy blocks (``services.privacy``)."""
    query = _conflicts(actor, include_restored=include_restored)
    order = (ConflictRecord.created_at.desc(), ConflictRecord.id)
    page: Page[ConflictRecord] = await fetch_page(
        session, query, order_by=order, limit=limit, offset=offset
    )
    return Page(await _readable(session, actor, page.items), page.total, limit, offset)


async def _readable(
    session: AsyncSession, actor: Actor, records: list[ConflictRecord]
) -> list[ConflictRecord | dict[str, Any]]:
    ids = [r.entry_id for r in records if r.entry_kind is EntryKind.APPOINTMENT]
    rows = (await session.scalars(select(Appointment).where(Appointment.id.in_(ids)))).all()
    views = {row.id: privacy.view(actor, row) for row in rows}
    out: list[ConflictRecord | dict[str, Any]] = []
    for record in records:
        if views.get(record.entry_id, View.FULL) is View.FULL:
            out.append(record)
            continue
        shown = {c.key: getattr(record, c.key) for c in ConflictRecord.__table__.columns}
        shown["winner_snapshot"] = privacy.busy_snapshot(record.winner_snapshot)
        shown["loser_snapshot"] = privacy.busy_snapshot(record.loser_snapshot)
        out.append(shown)
    return out


async def restore_conflict(
    session: AsyncSession, actor: Actor, conflict_id: uuid.UUID
) -> ConflictRecord:
    """Make the losing version current again on the host; the next pass carries it out."""
    require_editor(actor, "restore conflicts")
    record = await session.get(ConflictRecord, conflict_id)
    if record is None or record.firm_id != actor.firm_id:
        raise NotFound("no such conflict")
    await _visible(session, actor, record.connection_id)
    if record.restored_at is not None:
        raise Conflict("this conflict was already restored")
    if record.entry_kind is not EntryKind.APPOINTMENT:
        raise Conflict("only appointments have two-way conflicts to restore")
    loser = record.loser_snapshot
    if loser.get("deleted"):
        await delete_entry(session, actor, Appointment, record.entry_id)
    elif loser.get("occurrence"):
        # One occurrence of a series changed on both sides: bring back that occurrence.
        entry = await session.get(Appointment, record.entry_id)
        held = list(entry.overrides) if entry is not None else []
        stored = {k: str(loser.get(k, "")) for k in _OCCURRENCE}
        if loser.get("removed"):  # the losing version had no change of that occurrence
            restored = [x for x in held if overrides.slot(x) != overrides.slot(stored)]
        else:
            restored = overrides.merge(held, stored)
        await update_appointment(session, actor, record.entry_id, {"overrides": restored})
    else:
        await update_appointment(session, actor, record.entry_id, _appointment_values(loser))
    record = await session.get(ConflictRecord, conflict_id) or record
    record.restored_at = utcnow()
    await session.commit()
    return record


_OCCURRENCE = ("original_start", "title", "start", "end", "location", "notes")


def _appointment_values(snapshot: dict[str, Any]) -> dict[str, Any]:
    start, end = str(snapshot["start"]), str(snapshot["end"])
    values: dict[str, Any] = {
        "title": snapshot.get("title") or "(untitled)",
        "location": snapshot.get("location", ""),
        "notes": strip_footer(str(snapshot.get("description", ""))),
        "time_zone": snapshot.get("time_zone"),
    }
    if len(start) == 10:
        values |= {"all_day": True, "start_date": datetime.fromisoformat(start).date(),
                   "end_date": datetime.fromisoformat(end).date()}  # fmt: skip
    else:
        values |= {"all_day": False, "start_at": datetime.fromisoformat(start),
                   "end_at": datetime.fromisoformat(end)}  # fmt: skip
    return values
