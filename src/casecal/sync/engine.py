"""One sync pass for one connection: pull remote changes, push host changes, save links,
cursor and outbox acknowledgements only once each effect is durable.

``SyncEngine.run_pass`` runs a pass and turns its end into an outcome; the loop below drives
the phases (``pull``, then ``push``), and acts on what they hand back (a ``Replan`` of a
pair, a ``writes.Retry`` of a write): no phase calls back into another. See
docs/design/reconcile.md for the path of one change."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import structlog
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casecal.domain.effective_settings import EffectiveSettings
from casecal.domain.entitlement import PAUSED, REASONS
from casecal.domain.plan import UNKNOWN, HostSide
from casecal.errors import NotFound as DomainNotFound
from casecal.providers import base as pb
from casecal.providers.errors import (
    AuthExpired,
    ConsentRequired,
    CursorExpired,
    ProviderError,
    RateLimited,
)
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    SyncCursor,
    SyncRun,
    new_id,
    utcnow,
)
from casecal.sync import deletions, pull, push, writes
from casecal.sync.deletions import DeletionsPaused
from casecal.sync.exclusive import ConnectionLocks
from casecal.sync.outcomes import Counts, Direction, GuardCount, PassOutcome, new_counts, plain
from casecal.sync.pass_context import Pass, Progress, Replan, read_basis

log = structlog.get_logger("casecal.sync")

ProviderFactory = Callable[[Connection], Awaitable[pb.Provider]]
"""Builds the authorised adapter of a connection (tokens decrypted, refresh wired in)."""


@runtime_checkable
class PassProviderFactory(Protocol):
    """A ``ProviderFactory`` that also takes the settings the pass has read
    (``connector.ConnectionProviders``), so that building the adapter reads none again."""

    def __call__(self, connection: Connection, /) -> Awaitable[pb.Provider]: ...

    async def for_pass(
        self, connection: Connection, settings: EffectiveSettings
    ) -> pb.Provider: ...


StatusListener = Callable[[uuid.UUID, ConnectionStatus, str], Awaitable[None]]
"""Told (connection id, new status, reason) when a pass changes a connection's status."""


@dataclass
class PassReport:
    run_id: uuid.UUID
    outcome: PassOutcome
    """How the pass ended (a ``PassOutcome``; the clean-up pass still reports plain
    strings of the same values)."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per ``Direction``, per ``<entry kind>.<Tally>`` (see ``outcomes.plain``)."""
    error: str = ""
    retry_after: float | None = None
    """Seconds the provider asked us to wait (429 / 503 Retry-After), when it did."""


class SyncEngine:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider_for: ProviderFactory,
        *,
        base_url: str,
        on_status: StatusListener | None = None,
    ) -> None:
        """The mass-delete guard's limits are each connection's user's settings
        (``guard.percent`` / ``guard.minimum``), read by the pass."""
        self.sessionmaker = sessionmaker
        self.provider_for = provider_for
        self.base_url = base_url
        self.on_status = on_status
        bind = sessionmaker.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the sessionmaker must be bound to an AsyncEngine")
        self.locks = ConnectionLocks(bind)

    async def run_pass(
        self,
        firm_id: uuid.UUID,
        connection_id: uuid.UUID,
        *,
        trigger: str = "manual",
        progress: Progress | None = None,
        wait: float = 0.0,
    ) -> PassReport:
        """Run one pass; provider failures end the run with an outcome, never half-saved.
        Another pass of the same connection already running (here or in another process)
        answers ``busy`` after waiting up to ``wait`` seconds for it."""
        async with self.locks.hold(connection_id, wait=wait) as held:
            if not held:
                return PassReport(run_id=uuid.UUID(int=0), outcome=PassOutcome.BUSY)
            return await self._run_pass(firm_id, connection_id, trigger, progress)

    async def _run_pass(
        self,
        firm_id: uuid.UUID,
        connection_id: uuid.UUID,
        trigger: str,
        progress: Progress | None,
    ) -> PassReport:
        async with self.sessionmaker() as session:
            # One statement reads the connection, its firm, its cursor, its user's entitlement
            # and settings; the pass reads them from here on (it holds the connection's lock).
            basis = await read_basis(session, firm_id, connection_id)
            if basis is None:
                raise DomainNotFound("no such connection")
            run_id = new_id()
            await session.execute(
                insert(SyncRun).values(
                    id=run_id, firm_id=firm_id, connection_id=connection_id, trigger=trigger
                )
            )
            await session.commit()  # the run shows as running while the pass goes
        connection = basis.connection
        # Defence in depth: no pass without a seat on an active subscription (the services
        # pause such connections at once; this stops any that slipped by).
        entitled = basis.entitled
        if connection.status is not ConnectionStatus.ACTIVE:
            skipped = PassOutcome.skipped(connection.status)
            return await self._finish(run_id, firm_id, connection_id, skipped, new_counts())
        if entitled in PAUSED:
            await self._set_status(connection_id, PAUSED[entitled], REASONS[entitled])
            skipped = PassOutcome.skipped(PAUSED[entitled])
            return await self._finish(run_id, firm_id, connection_id, skipped, new_counts())
        sync_pass = Pass(
            self.sessionmaker, self.base_url, connection_id, firm_id,
            progress or (lambda _phase, _done, _total: None), basis=basis,
        )  # fmt: skip
        outcome, error, retry_after = PassOutcome.OK, "", None
        try:
            factory = self.provider_for
            if isinstance(factory, PassProviderFactory):
                sync_pass.provider = await factory.for_pass(connection, basis.settings)
            else:
                sync_pass.provider = await factory(connection)
            await _run(sync_pass)
        except DeletionsPaused as exc:
            outcome, error = PassOutcome.PAUSED, str(exc)
            sync_pass.counts[Direction.GUARD] = Counter(
                {GuardCount.DELETIONS: exc.verdict.deletions, GuardCount.LINKED: exc.verdict.linked}
            )
            await self._set_status(connection_id, ConnectionStatus.PAUSED_DELETIONS, error)
        except AuthExpired as exc:
            outcome, error = PassOutcome.NEEDS_REAUTH, str(exc)
            await self._set_status(connection_id, ConnectionStatus.NEEDS_REAUTH, error)
        except ConsentRequired as exc:
            outcome, error = PassOutcome.AWAITING_CONSENT, str(exc)
            await self._set_status(connection_id, ConnectionStatus.AWAITING_CONSENT, error)
        except RateLimited as exc:
            outcome, error, retry_after = PassOutcome.FAILED, f"RateLimited: {exc}", exc.retry_after
            log.warning("sync pass throttled", connection_id=str(connection_id), error=error)
        except ProviderError as exc:
            outcome, error = PassOutcome.FAILED, f"{type(exc).__name__}: {exc}"
            log.warning("sync pass failed", connection_id=str(connection_id), error=error)
        report = await self._finish(
            run_id, firm_id, connection_id, outcome, sync_pass.counts, error,
            cursor=sync_pass.cursor_saved,
        )  # fmt: skip
        report.retry_after = retry_after
        return report

    async def _set_status(
        self, connection_id: uuid.UUID, status: ConnectionStatus, reason: str
    ) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                .values(status=status, status_reason=reason)
            )
        if self.on_status is not None:
            await self.on_status(connection_id, status, reason)

    async def _finish(
        self,
        run_id: uuid.UUID,
        firm_id: uuid.UUID,
        connection_id: uuid.UUID,
        outcome: PassOutcome,
        counts: Counts,
        error: str = "",
        *,
        cursor: Mapping[str, object] | None = None,
    ) -> PassReport:
        """Record how the run ended, in one transaction with what the pass left to store in
        its cursor row (``cursor``: the settings digest it planned with) and, when it went
        well, the connection's last sync."""
        stored = plain(counts)
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            if cursor:
                await session.execute(
                    update(SyncCursor)
                    .where(SyncCursor.connection_id == connection_id, SyncCursor.firm_id == firm_id)
                    .values(**cursor)
                )
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.firm_id == firm_id)
                .values(finished_at=now, outcome=outcome.value, counts=stored, error=error)
            )
            if outcome is PassOutcome.OK:
                await session.execute(
                    update(Connection)
                    .where(Connection.id == connection_id, Connection.firm_id == firm_id)
                    .values(last_sync_at=now)
                )
        return PassReport(run_id=run_id, outcome=outcome, counts=stored, error=error)


# --- the loop of one pass: pull, then push; every follow-up a phase hands back ----------


async def _run(p: Pass) -> None:
    async with p.sessionmaker() as session:
        ctx = await p.context(session)  # the pass's first context reads the settings
    connection = ctx.connection
    calendar_id = connection.calendar_id
    cursor_row = p.basis.cursor if p.basis is not None else None
    first_pass = cursor_row is None or cursor_row.synced_version == 0
    # The settings that decide which kinds this calendar holds and how they look: when
    # they differ from those it was last planned with, every such entry is planned again.
    digest = ctx.settings.shape_digest(opted_in=connection.step_reminders)
    recorded = cursor_row.settings_digest if cursor_row is not None else ""
    if calendar_id is None:
        raise ProviderError("the connection has no calendar chosen")
    p.calendar_id = calendar_id
    await _pull(p)
    await _push(p, backfill=first_pass, replan=not first_pass and recorded != digest)
    if recorded != digest:
        # Only once the push has planned everything (a guard that paused the deletions
        # raised above): the next pass plans again until the change is through. Stored
        # with the run's end.
        p.cursor_saved["settings_digest"] = digest


async def _pull(p: Pass) -> None:
    start = await pull.round_start_and_commit(p)
    try:
        final = await pull.change_round(p, start.cursor, start.window)
    except CursorExpired:
        log.info("cursor expired; full resync", connection_id=str(p.connection_id))
        final = await pull.change_round(p, None, start.window)
    await deletions.review_deferred_and_commit(p)
    await _apply_deferred(p, [])
    await pull.save_cursor_and_commit(p, start, final)


async def _push(p: Pass, *, backfill: bool, replan: bool) -> None:
    work = await push.work(p, backfill=backfill, replan=replan)
    chunk = max(1, p.provider.capabilities.max_batch_size)
    held: list[writes.Write] = []
    for done, (kind, entry_id) in enumerate(work, start=1):
        step = await work.settle_and_commit(p, kind, entry_id)
        if isinstance(step, writes.Write):
            held.append(step)
            if len(held) >= chunk:
                await _send(p, held, [])
                held = []
        elif step is not None:
            await _follow(p, step)
        p.progress("push", done, len(work))
    if not p.deferred:
        await _send(p, held, [])
        return
    # The last writes wait for the guard's review, to go out in one batch with the
    # deletions; when the guard holds the deletions back, the writes go out alone.
    try:
        await deletions.review_deferred_and_commit(p)
    except DeletionsPaused:
        await _send(p, held, [])
        raise
    await _apply_deferred(p, held)


async def _apply_deferred(p: Pass, held: list[writes.Write]) -> None:
    """Carry out the deletions the guard let through (re-planned first), in one batch
    with ``held`` (collected remote writes still to send), when there are any."""
    deferred, p.deferred = p.deferred, []
    deletes: list[writes.Delete] = []
    for item in deferred:
        step = await deletions.carry_out_and_commit(p, item)
        if isinstance(step, writes.Delete):
            deletes.append(step)
        elif step is not None:
            await _follow(p, step)
    await _send(p, held, deletes)


async def _send(p: Pass, held: list[writes.Write], deletes: list[writes.Delete]) -> None:
    """Send collected writes and planned deletions of linked events: one at a time when
    there are only a few, else together through the provider's batch endpoint. A write
    that did not land goes back through the single path (re-planned, its error handled or
    raised there); the deletions are settled as ``writes.settle_deletes_and_commit`` says,
    after the writes' follow-ups, whatever those raise."""
    if not held and not deletes:
        return
    if not writes.batched(held, deletes):
        for write in held:
            await _follow(p, writes.Retry(write.kind, write.entry_id))
        outcomes = await writes.delete_each(p, deletes)
        await writes.settle_deletes_and_commit(p, deletes, outcomes)
        return
    answer = await writes.send_batch_and_commit(p, held, deletes)
    try:
        for step in answer.follow:
            await _follow(p, step)
    finally:
        await writes.settle_deletes_and_commit(p, deletes, answer.deleted)


async def _follow(p: Pass, step: Replan | writes.Retry) -> None:
    """Act on what a phase handed back: a re-plan goes to the pull phase (which settles
    remote changes), a retry through the push's single path, until nothing is left."""
    follow: Replan | writes.Retry | None = step
    while follow is not None:
        if isinstance(follow, Replan):
            await pull.settle_remote_and_commit(p, follow.remote_id, follow.remote)
            return
        follow = await push.settle_host_and_commit(p, follow.kind, follow.entry_id)


__all__ = [
    "UNKNOWN",
    "DeletionsPaused",
    "HostSide",
    "PassOutcome",
    "PassReport",
    "SyncEngine",
]
