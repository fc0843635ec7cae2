"""Removing the events CaseCal created in a calendar, when the firm asks after a seat or the
subscription ended (``connections.cleanup_requested_at``). The connection stays paused; the
deletions go through the mass-delete guard (a large clean-up waits for a person's
confirmation, ``POST .../confirm-deletions``), under the connection's lock, and each deleted
event's link is dropped with the cursor, so a later resume starts as a first pass and pushes
the entries again as new."""

from __future__ import annotations

import uuid
from collections import Counter

import structlog
from sqlalchemy import delete, select

from casecal.domain.cleanup import created_here
from casecal.domain.entitlement import PAUSED_STATES
from casecal.domain.guard import review
from casecal.errors import Conflict
from casecal.errors import NotFound as DomainNotFound
from casecal.providers.errors import AuthExpired, ConsentRequired, NotFound, ProviderError
from casecal.store.tables import (
    Appointment,
    Connection,
    EntryKind,
    Link,
    SyncCursor,
    SyncRun,
    utcnow,
)
from casecal.sync import audit_rows as audit
from casecal.sync.engine import PassReport, SyncEngine
from casecal.sync.outcomes import PassOutcome
from casecal.sync.settings_query import effective_for

log = structlog.get_logger("casecal.sync")


async def clean_up(
    engine: SyncEngine, firm_id: uuid.UUID, connection_id: uuid.UUID, *, wait: float = 30.0
) -> PassReport:
    """Run the requested clean-up of one paused connection; ``busy`` if a pass holds it."""
    async with engine.locks.hold(connection_id, wait=wait) as held:
        if not held:
            return PassReport(run_id=uuid.UUID(int=0), outcome=PassOutcome.BUSY)
        return await _clean_up(engine, firm_id, connection_id)


async def _clean_up(engine: SyncEngine, firm_id: uuid.UUID, connection_id: uuid.UUID) -> PassReport:
    async with engine.sessionmaker() as session:
        connection = await session.get(Connection, connection_id)
        if connection is None or connection.firm_id != firm_id:
            raise DomainNotFound("no such connection")
        if connection.status not in PAUSED_STATES or connection.cleanup_requested_at is None:
            raise Conflict("no clean-up was asked for this connection")
        run = SyncRun(firm_id=firm_id, connection_id=connection_id, trigger="cleanup")
        session.add(run)
        await session.commit()
        live = select(Link).where(Link.connection_id == connection_id, Link.tombstoned_at.is_(None))
        links = list((await session.scalars(live)).all())
        ids = [link.entry_id for link in links if link.entry_kind is EntryKind.APPOINTMENT]
        found = await session.execute(
            select(Appointment.id, Appointment.origin).where(Appointment.id.in_(ids))
        )
        origins: dict[uuid.UUID, str] = {row[0]: row[1] for row in found}
        limits = (await effective_for(session, firm_id, connection.user_id)).limits()
    ours = [link for link in links if created_here(link.entry_kind, origins.get(link.entry_id))]
    verdict = review(len(links), len(ours), confirmed=connection.confirmed_deletions, limits=limits)
    counts = {"guard": Counter(deletions=len(ours), linked=len(links)), "out": Counter[str]()}
    if verdict.tripped:
        message = (
            f"clean-up would remove {len(ours)} events CaseCal created from this calendar; "
            "waiting for confirmation (POST .../confirm-deletions, then ask again)"
        )
        return await _finish(engine, run.id, PassOutcome.PAUSED, counts, message)
    outcome, error = PassOutcome.OK, ""
    try:  # nothing to remove needs no grant; a grant that no longer works fails the run
        provider = await engine.provider_for(connection) if ours else None
    except (AuthExpired, ConsentRequired) as exc:
        provider, outcome, error = None, PassOutcome.FAILED, f"{type(exc).__name__}: {exc}"
    calendar_id = connection.calendar_id or ""
    for link in ours:
        if provider is None:
            break
        try:
            await provider.delete_event(calendar_id, link.remote_id, etag=None)
        except NotFound:
            pass  # already gone: nothing to remove
        except (AuthExpired, ConsentRequired) as exc:
            outcome, error = PassOutcome.FAILED, f"{type(exc).__name__}: {exc}"
            break
        except ProviderError as exc:  # one refusal must not keep the rest
            log.warning("clean-up deletion failed", remote_id=link.remote_id, error=repr(exc))
            counts["out"]["failed"] += 1
            outcome, error = PassOutcome.FAILED, f"{type(exc).__name__}: {exc}"
            continue
        async with engine.sessionmaker() as session, session.begin():
            await session.execute(delete(Link).where(Link.id == link.id))
        counts["out"]["deleted"] += 1
    await _settled(engine, connection, outcome, counts["out"]["deleted"])
    return await _finish(engine, run.id, outcome, counts, error)


async def _finish(
    engine: SyncEngine,
    run_id: uuid.UUID,
    outcome: PassOutcome,
    counts: dict[str, Counter[str]],
    error: str = "",
) -> PassReport:
    plain = {name: dict(counter) for name, counter in counts.items() if counter}
    async with engine.sessionmaker() as session, session.begin():
        run = await session.get(SyncRun, run_id)
        if run is not None:
            run.finished_at, run.outcome, run.counts, run.error = (
                utcnow(),
                outcome.value,
                plain,
                error,
            )
    return PassReport(run_id=run_id, outcome=outcome, counts=plain, error=error)


async def _settled(
    engine: SyncEngine, connection: Connection, outcome: PassOutcome, deleted: int
) -> None:
    async with engine.sessionmaker() as session, session.begin():
        row = await session.get(Connection, connection.id)
        if row is None:
            return
        row.confirmed_deletions = 0
        if outcome is PassOutcome.OK:
            row.cleanup_requested_at = None
            # What CaseCal put there is gone with its links: a resume starts over as a first
            # pass (a full listing, then the backfill pushes the entries again).
            await session.execute(delete(SyncCursor).where(SyncCursor.connection_id == row.id))
        details = {"deleted": deleted, "outcome": outcome.value}
        audit.record(session, row.firm_id, None, "connection.cleaned_up",
                     f"connection:{row.id}", details)  # fmt: skip
