"""One sync pass for one connection: pull remote changes, push host changes, save links,
cursor and outbox acknowledgements only once each effect is durable. The only code that
performs the actions the pure plan decides."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casecal.domain import overrides, recurrence
from casecal.domain.entitlement import REASONS
from casecal.domain.event import CanonicalEvent, Override
from casecal.domain.guard import DEFAULT_LIMITS, Limits, Verdict, review
from casecal.domain.mapping import appointment_fields, occurrence_change
from casecal.domain.occurrences import absent_occurrences, occurrence_keys
from casecal.domain.plan import UNKNOWN, Action, HostSide, Op, RemoteSide, Side, plan, winner
from casecal.domain.policy import ConflictPolicy, Policy, RemoteDeletes
from casecal.domain.recurrence import EventTime, time_key
from casecal.domain.tags import Tag
from casecal.domain.window import Backfill, sync_window
from casecal.errors import NotFound as DomainNotFound
from casecal.providers import base as pb
from casecal.providers.errors import (
    AuthExpired,
    ConsentRequired,
    CursorExpired,
    Gone,
    NotFound,
    PreconditionFailed,
    ProviderError,
    RateLimited,
)
from casecal.services import outbox
from casecal.services.entitlements import PAUSED, entitlement_of
from casecal.store.tables import (
    Appointment,
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    Firm,
    Link,
    OutboxOp,
    OutboxRow,
    SyncCursor,
    SyncRun,
    utcnow,
)
from casecal.sync.cursors import ensure_cursor
from casecal.sync.exclusive import ConnectionLocks
from casecal.sync.hostview import EntryRow, HostItem, HostView, merge_exdates
from casecal.sync.links import LinkStore, link_state

log = structlog.get_logger("casecal.sync")

ProviderFactory = Callable[[Connection], Awaitable[pb.Provider]]
"""Builds the authorised adapter of a connection (tokens decrypted, refresh wired in)."""

StatusListener = Callable[[uuid.UUID, ConnectionStatus, str], Awaitable[None]]
"""Told (connection id, new status, reason) when a pass changes a connection's status."""

Progress = Callable[[str, int, int | None], None]
"""Told (phase, items done, items in the phase or None when unknown) as a pass goes."""


class DeletionsPaused(Exception):
    """The mass-delete guard tripped; the pass stops and waits for a confirmation."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


@dataclass
class PassReport:
    run_id: uuid.UUID
    outcome: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str = ""
    retry_after: float | None = None
    """Seconds the provider asked us to wait (429 / 503 Retry-After), when it did."""


def policy_of(firm: Firm) -> Policy:
    """The firm's sync policy from its settings (``remote_deletes``, ``conflicts``)."""
    settings = firm.settings or {}
    return Policy(
        remote_deletes=RemoteDeletes(settings.get("remote_deletes", RemoteDeletes.RESTORE)),
        conflicts=ConflictPolicy(settings.get("conflicts", ConflictPolicy.NEWER_WINS)),
    )


class SyncEngine:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider_for: ProviderFactory,
        *,
        base_url: str,
        limits: Limits = DEFAULT_LIMITS,
        on_status: StatusListener | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.provider_for = provider_for
        self.base_url = base_url
        self.limits = limits
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
                return PassReport(run_id=uuid.UUID(int=0), outcome="busy")
            return await self._run_pass(firm_id, connection_id, trigger, progress)

    async def _run_pass(
        self,
        firm_id: uuid.UUID,
        connection_id: uuid.UUID,
        trigger: str,
        progress: Progress | None,
    ) -> PassReport:
        async with self.sessionmaker() as session:
            connection = await session.get(Connection, connection_id)
            if connection is None or connection.firm_id != firm_id:
                raise DomainNotFound("no such connection")
            run = SyncRun(firm_id=firm_id, connection_id=connection_id, trigger=trigger)
            session.add(run)
            await session.commit()
            run_id = run.id
            # Defence in depth: no pass without a seat on an active subscription (the
            # services pause such connections at once; this stops any that slipped by).
            entitled = await entitlement_of(session, firm_id, connection.user_id)
        if connection.status is not ConnectionStatus.ACTIVE:
            return await self._finish(run_id, connection_id, f"skipped:{connection.status}", {})
        if entitled in PAUSED:
            await self._set_status(connection_id, PAUSED[entitled], REASONS[entitled])
            return await self._finish(run_id, connection_id, f"skipped:{PAUSED[entitled]}", {})
        sync_pass = _Pass(self, connection_id, firm_id, None, progress)
        outcome, error, retry_after = "ok", "", None
        try:
            sync_pass.provider = await self.provider_for(connection)
            await sync_pass.run()
        except DeletionsPaused as exc:
            outcome, error = "paused", str(exc)
            sync_pass.counts["guard"] = Counter(
                {"deletions": exc.verdict.deletions, "linked": exc.verdict.linked}
            )
            await self._set_status(connection_id, ConnectionStatus.PAUSED_DELETIONS, error)
        except AuthExpired as exc:
            outcome, error = "needs_reauth", str(exc)
            await self._set_status(connection_id, ConnectionStatus.NEEDS_REAUTH, error)
        except ConsentRequired as exc:
            outcome, error = "awaiting_consent", str(exc)
            await self._set_status(connection_id, ConnectionStatus.AWAITING_CONSENT, error)
        except RateLimited as exc:
            outcome, error, retry_after = "failed", f"RateLimited: {exc}", exc.retry_after
            log.warning("sync pass throttled", connection_id=str(connection_id), error=error)
        except ProviderError as exc:
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
            log.warning("sync pass failed", connection_id=str(connection_id), error=error)
        report = await self._finish(run_id, connection_id, outcome, sync_pass.counts, error)
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
        connection_id: uuid.UUID,
        outcome: str,
        counts: dict[str, Counter[str]],
        error: str = "",
    ) -> PassReport:
        plain = {direction: dict(c) for direction, c in counts.items()}
        async with self.sessionmaker() as session, session.begin():
            run = await session.get(SyncRun, run_id)
            assert run is not None
            run.finished_at, run.outcome, run.counts, run.error = utcnow(), outcome, plain, error
            if outcome == "ok":
                await session.execute(
                    update(Connection)
                    .where(Connection.id == connection_id)
                    .values(last_sync_at=utcnow())
                )
        return PassReport(run_id=run_id, outcome=outcome, counts=plain, error=error)


@dataclass
class _Deferred:
    """A planned deletion, held until the guard has seen all of a phase's deletions."""

    action: Action
    remote: pb.RemoteEvent | None
    remote_side: RemoteSide | None
    """The remote side as read when the deletion was planned (re-planned against it)."""
    link_id: uuid.UUID | None
    kind: EntryKind
    entry_id: uuid.UUID


_Context = tuple[Connection, Policy, HostView, LinkStore]


class _Pass:
    """The state of one pass. Every settled pair is saved in its own transaction, so a crash
    loses at most the pair in flight, and a rerun redoes it idempotently."""

    def __init__(
        self,
        engine: SyncEngine,
        connection_id: uuid.UUID,
        firm_id: uuid.UUID,
        provider: pb.Provider | None,
        progress: Progress | None = None,
    ) -> None:
        self.engine = engine
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.connection_id = connection_id
        self.firm_id = firm_id
        self._provider = provider
        self.counts: dict[str, Counter[str]] = {"in": Counter(), "out": Counter()}
        self.deferred: list[_Deferred] = []
        self.masters_seen: set[str] = set()
        self.masters: dict[str, pb.RemoteEvent] = {}
        self._moved: list[tuple[Link, Appointment]] = []
        self._absences_read: set[str] = set()
        """Series whose absences the page being applied has read."""
        """Links whose host side a page moved, their versions to settle at its end."""
        """Series masters read this pass, by id: what a series is on the remote."""
        self._page: AsyncSession | None = None
        """The session of the change-round page being applied, when one is (see ``_round``)."""

    @property
    def provider(self) -> pb.Provider:
        if self._provider is None:
            raise RuntimeError("the pass has no provider yet")
        return self._provider

    @provider.setter
    def provider(self, value: pb.Provider) -> None:
        self._provider = value

    # --- plumbing ---------------------------------------------------------------------

    async def _context(
        self, session: AsyncSession
    ) -> tuple[Connection, Policy, HostView, LinkStore]:
        """The connection, its firm's policy, and the host and link stores, once per session
        (kept in ``session.info``: the identity map holds rows weakly, so without a strong
        reference every call would read the connection and the firm again)."""
        cached: _Context | None = session.info.get("sync_context")
        if cached is not None:
            return cached
        connection = await session.get(Connection, self.connection_id)
        firm = await session.get(Firm, self.firm_id)
        if connection is None or firm is None:
            raise DomainNotFound("the connection or its firm is gone")
        view = HostView(session, connection, base_url=self.engine.base_url, firm_tz=firm.time_zone)
        context = (connection, policy_of(firm), view, LinkStore(session, connection))
        session.info["sync_context"] = context
        return context

    def _count(self, direction: str, kind: str, op: str) -> None:
        self.counts[direction][f"{kind}.{op}"] += 1

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The page's session while a page is applied, else a session of its own."""
        if self._page is not None:
            yield self._page
            return
        async with self.engine.sessionmaker() as session:
            yield session

    async def _settled(self, session: AsyncSession) -> None:
        """A pair is settled: commit, unless it is part of a page (committed as one)."""
        if session is not self._page:
            await session.commit()

    async def _before_remote_write(self, session: AsyncSession) -> None:
        """Commit the page so far before a remote write, so that a rollback after it (a 412,
        a reused create) discards nothing but the pair in flight."""
        if session is self._page:
            await session.commit()

    async def _rollback(self, session: AsyncSession) -> None:
        await session.rollback()
        session.info.pop("links_by_remote", None)  # it may name links the rollback discarded

    async def run(self) -> None:
        async with self.engine.sessionmaker() as session:
            connection, *_ = await self._context(session)
            calendar_id = connection.calendar_id
            cursor_row = await session.get(SyncCursor, self.connection_id)
            first_pass = cursor_row is None or cursor_row.synced_version == 0
        if calendar_id is None:
            raise ProviderError("the connection has no calendar chosen")
        self.calendar_id = calendar_id
        await self.pull()
        await self.push(backfill=first_pass)

    # --- pull: remote -> host -----------------------------------------------------------

    async def pull(self) -> None:
        async with self.engine.sessionmaker() as session:
            connection, _, view, _ = await self._context(session)
            cursor_row = await ensure_cursor(session, connection.id, self.firm_id)
            full = cursor_row.cursor is None or cursor_row.version > cursor_row.synced_version
            cursor = None if full else cursor_row.cursor
            version = cursor_row.version
            window = self._window(connection, view.firm_tz)
        try:
            final = await self._round(cursor, window)
        except CursorExpired:
            log.info("cursor expired; full resync", connection_id=str(self.connection_id))
            final = await self._round(None, window)
        async with self.engine.sessionmaker() as session, session.begin():
            row = await session.get(SyncCursor, self.connection_id)
            assert row is not None
            row.cursor, row.synced_version = final, version
            row.window_start = window.start

    def _window(self, connection: Connection, firm_tz: str) -> pb.SyncWindow:
        activated = connection.activated_at or utcnow()
        backfill = Backfill(connection.backfill)
        window = sync_window(backfill, activated, ZoneInfo(firm_tz))
        return pb.SyncWindow(start=window.start, end=window.end)

    async def _round(self, cursor: str | None, window: pb.SyncWindow) -> str | None:
        """One change round; returns the new cursor. A full round also settles linked events
        that the listing no longer shows (verified one by one, never inferred)."""
        full = cursor is None
        seen: set[str] = set()
        final: str | None = None
        listed = 0
        async with self.engine.sessionmaker() as session:
            _, _, _, links = await self._context(session)
            known, settled = await links.remote_ids()
        rounds = self.provider.changes(
            self.calendar_id, cursor, window if full else None, known=known, settled=settled
        )
        async for page in rounds:
            seen.update(remote.id for remote in page.events)
            await self._apply_page(page, window)
            listed += len(page.events)
            self.progress("pull", listed, None)
            if page.cursor is not None:
                final = page.cursor
        if full:
            async with self.engine.sessionmaker() as session:
                _, _, _, links = await self._context(session)
                missing = await links.live_remote_ids() - seen
                linked = await links.live_count()
            if listed == 0 and linked > 0:
                await self._review(linked, listed=0)
            for remote_id in sorted(missing):
                await self._remote_removed(remote_id)
        await self._review_deferred()
        await self._apply_deferred()
        return final

    async def _apply_page(self, page: pb.ChangePage, window: pb.SyncWindow) -> None:
        """Apply one page in one session: its links and entry rows are loaded in a few
        queries, its host-side effects are committed together at the end (a crash loses the
        page, which the rerun applies again: the cursor is only saved after the round), and
        a remote write commits what came before it first."""
        async with self.engine.sessionmaker() as session:
            self._page = session
            try:
                _, _, view, links = await self._context(session)
                owners = [e.series_id or e.id for e in page.events] + list(page.removed)
                found = await links.prefetch(owners)
                await view.prefetch((link.entry_kind, link.entry_id) for link in found)
                await self._occurrence_news(session, page, window)
                # Masters before their occurrences, so an occurrence finds its series linked.
                ordered = sorted(page.events, key=lambda e: e.series_id is not None)
                for done, remote in enumerate(ordered, start=1):
                    await self._remote_item(remote)
                    if done % PAGE_COMMIT == 0:
                        await session.commit()  # keep SQLite's write lock short
                for removed_id in page.removed:
                    known = await links.by_remote(removed_id)
                    if known is None or known.tombstoned_at is not None:
                        # Never linked, or already settled as gone (the echo of our own
                        # delete): a removal says nothing new.
                        continue
                    if self.provider.capabilities.removals_reliable:
                        await self._settle_remote(removed_id, None)  # the feed's word is final
                    else:
                        await self._remote_removed(removed_id)
                if self.provider.capabilities.occurrences_listed:
                    await self._absences(page, window, full=page.full)
                await self._settle_moved(session)
                await session.commit()
            finally:
                self._page = None
                self._moved.clear()
                self._absences_read.clear()

    async def _move_host_side(
        self, session: AsyncSession, link: Link, row: Appointment, fingerprint: str
    ) -> None:
        """Record a host change that the remote already holds as synced: the link takes the
        row's new fingerprint and, once flushed, its new version (so the backfill skips it).
        In a page, the versions are settled once at its end (one flush, not one per
        occurrence)."""
        link.host_fingerprint = fingerprint
        if session is self._page:
            self._moved.append((link, row))
            return
        await session.flush()
        link.host_version = row.version

    async def _settle_moved(self, session: AsyncSession) -> None:
        if self._moved:
            await session.flush()
            for link, row in self._moved:
                link.host_version = row.version
            self._moved.clear()

    async def _occurrence_news(
        self, session: AsyncSession, page: pb.ChangePage, window: pb.SyncWindow
    ) -> None:
        """What a page says of single occurrences of series linked already (cancelled or
        changed ones, and on Graph those it leaves out) goes to the host before any series of
        the page is settled: a series the host changed is written back whole while the page is
        applied, and that write must carry them (on Graph it brings cancelled occurrences back
        and drops exceptions). Absences are read against the series as the remote has it (its
        master, read now rather than later in the page: no extra request), never against a
        host change not yet sent. Applying it all again after the page's masters changes
        nothing."""
        self.masters.update((e.id, e) for e in page.events if e.series_id is None)
        if self.provider.capabilities.occurrences_listed:
            _, _, _, links = await self._context(session)
            for series_id in dict.fromkeys(e.series_id for e in page.events if e.series_id):
                if series_id not in self.masters and await links.by_remote(series_id):
                    await self._master(series_id)
        for remote in page.events:
            if remote.series_id is not None:
                await self._occurrence_in(session, remote)
        if self.provider.capabilities.occurrences_listed:
            await self._absences(page, window, full=page.full)

    async def _master(self, series_id: str) -> pb.RemoteEvent | None:
        """The master of ``series_id`` as read this pass, read now if it was not."""
        if series_id not in self.masters:
            try:
                self.masters[series_id] = await self.provider.get_event(self.calendar_id, series_id)
            except (NotFound, Gone):
                return None
        return self.masters[series_id]

    async def _remote_removed(self, remote_id: str) -> None:
        """``remote_id`` seems gone (a feed that also reports events leaving the window, or a
        full listing that did not show it): confirm by reading it."""
        try:
            remote = await self.provider.get_event(self.calendar_id, remote_id)
        except (NotFound, Gone):
            await self._settle_remote(remote_id, None)
            return
        await self._remote_item(remote)

    async def _remote_item(self, remote: pb.RemoteEvent) -> None:
        if remote.problem is not None:
            self._count("in", "unknown", "skipped")
            log.warning("remote event skipped", remote_id=remote.id, problem=remote.problem)
            return
        if remote.series_id is not None:
            await self._occurrence(remote)
            return
        self.masters_seen.add(remote.id)  # read now: its occurrences need not read it again
        self.masters[remote.id] = remote
        await self._settle_remote(remote.id, remote)

    async def _settle_remote(self, remote_id: str, remote: pb.RemoteEvent | None) -> None:
        async with self._session() as session:
            connection, policy, view, links = await self._context(session)
            link = await links.by_remote(remote_id)
            tag = remote.tag if remote is not None else None
            if tag is not None and tag.connection_id != connection.id:
                self._count("in", tag.kind, "foreign_tag_skipped")
                return
            if link is None and tag is not None:
                link = await links.by_entry(tag.kind, tag.entry_id)
            if link is None and remote is None:
                return  # a deletion of something we never knew: nothing to do
            kind = link.entry_kind if link is not None else (tag.kind if tag else None)
            entry_id = link.entry_id if link is not None else (tag.entry_id if tag else None)
            row = await view.load(kind, entry_id) if kind and entry_id else None
            item = await view.item(row)
            remote_side = _remote_side(remote, connection.id)
            action = plan(link_state(link), item.side if item else None, remote_side, policy)
            if action.op is Op.NOTHING:
                return
            if action.deletes:
                self.deferred.append(
                    _Deferred(action, remote, remote_side, link.id if link else None,
                              kind or EntryKind.APPOINTMENT, entry_id or uuid.uuid4())
                )  # fmt: skip
                return
            await self._perform(session, action, link, row, item, remote, kind, entry_id)

    async def _occurrence(self, remote: pb.RemoteEvent) -> None:
        """An occurrence of a series. Graph's delta lists occurrences, not the master: the first
        one of an unknown series brings the master in (once per pass). A cancelled occurrence
        becomes an EXDATE of the host appointment, a moved or edited one an override. Graph
        reports an edit of a series as changed occurrences, so the master of any series seen
        this way is read again, once per pass."""
        series_id = remote.series_id or ""
        if series_id not in self.masters_seen:
            self.masters_seen.add(series_id)
            master = await self._master(series_id)
            if master is None:
                return
            if master.series_id is None:
                await self._remote_item(master)
        async with self._session() as session:
            await self._occurrence_in(session, remote)
            await self._settled(session)

    async def _occurrence_in(self, session: AsyncSession, remote: pb.RemoteEvent) -> None:
        if remote.plain_occurrence:
            return  # a plain Graph occurrence: nothing of its own beyond its series
        _, _, _, links = await self._context(session)
        link = await links.by_remote(remote.series_id or "")
        if link is None or link.entry_kind is not EntryKind.APPOINTMENT:
            return
        if remote.original_start is None:
            return
        if remote.cancelled:
            await self._cancel_in(session, link.remote_id, [remote.original_start])
        elif remote.event is not None:
            override = Override(remote.original_start, remote.event)
            await self._override_in(session, link, override, remote.modified_at or utcnow())

    async def _override_in(
        self, session: AsyncSession, link: Link, override: Override, modified: datetime
    ) -> None:
        """One occurrence of a linked series changed on its own remotely. The link keeps each
        changed occurrence as last synced (``Link.occurrences``), so our own write coming back
        is recognised and changes nothing; otherwise the host keeps it as an override of that
        occurrence, unless the host changed the same occurrence since: a conflict of that
        occurrence, decided by the firm's policy, the other version kept as a record."""
        connection, policy, view, _ = await self._context(session)
        row = await view.load(link.entry_kind, link.entry_id)
        if not isinstance(row, Appointment) or row.deleted_at is not None or not row.rrule:
            return
        # Only an imported private series hides its details; the host's own keeps them.
        hidden = override.event.private and not connection.import_private_details
        hidden = hidden and row.origin == "remote"
        change = overrides.to_stored(occurrence_change(override, tz=row.time_zone, hidden=hidden))
        slot, incoming = overrides.slot(change), overrides.digest(change)
        synced = dict(link.occurrences or {})
        if synced.get(slot) == incoming:
            return  # the remote holds what was last synced: our own write, or nothing new
        before = await view.item(row)
        if before is None:
            return
        link.occurrences = {**synced, slot: incoming}
        held = next((x for x in row.overrides if overrides.slot(x) == slot), None)
        if held == change:
            return  # both sides made the same change
        if (overrides.digest(held) if held is not None else None) != synced.get(slot):
            # The host changed (or removed) this occurrence since the last sync too.
            host_time = row.updated_at if held is not None else None
            won = winner(policy.conflicts, host_time, modified)
            kept = held if held is not None else {"original_start": change["original_start"]}
            session.add(_occurrence_conflict(connection, row, won, kept, change))
            self._count("in", "appointment", "conflict")
            if won is Side.HOST:
                return  # the push writes the host's version over the remote's
        row.overrides = overrides.merge(row.overrides, change)
        self._count("in", "appointment", "occurrence_changed")
        after = await view.item(row)
        if after is not None and before.side.fingerprint == link.host_fingerprint:
            # The remote already holds this occurrence as it is now: the link's host side
            # moves with it, so the push does not write the series back.
            await self._move_host_side(session, link, row, after.side.fingerprint)

    async def _absences(self, page: pb.ChangePage, window: pb.SyncWindow, *, full: bool) -> None:
        """Graph lists all of a changed series' occurrences in the window and shows a cancelled
        one only by leaving it out: each linked series of the page gains an EXDATE for every
        occurrence of its rule the page did not list. A full listing is complete by
        definition; after an incremental one, what seems missing is confirmed with the
        provider's own expansion of the series first (one read, only when something is)."""
        shown: dict[str, list[EventTime]] = {}
        for remote in page.events:
            if remote.series_id is not None and remote.original_start is not None:
                slots = shown.setdefault(remote.series_id, [])
                if not remote.cancelled:
                    slots.append(remote.original_start)
        for series_id, slots in shown.items():
            if series_id in self._absences_read:
                continue  # read already in this page (before its series were settled)
            missing = await self._missing(series_id, slots, window)
            if missing is None:
                continue  # not linked, or not readable yet: read again after the masters
            self._absences_read.add(series_id)
            if missing and not full:
                if self._page is not None:
                    await self._page.commit()  # hold no write lock across a remote read
                live = await self.provider.series_occurrences(self.calendar_id, series_id, window)
                missing = await self._missing(series_id, [*slots, *live], window) or []
            if missing:
                await self._cancel_occurrences(series_id, missing)

    async def _missing(
        self, series_id: str, slots: list[EventTime], window: pb.SyncWindow
    ) -> list[EventTime] | None:
        """The occurrences of the linked series ``series_id`` that ``slots`` leave out, or
        None when there is nothing to read them against (yet)."""
        async with self._session() as session:
            _, _, view, links = await self._context(session)
            link = await links.by_remote(series_id)
            if link is None or link.tombstoned_at is not None:
                return None
            item = await view.item(await view.load(link.entry_kind, link.entry_id))
            if item is None or not isinstance(item.row, Appointment):
                return None
            series = item.event
            master = self.masters.get(series_id)
            if master is not None and master.event is not None and master.event.recurrence:
                # The rule and start the remote expanded, with the host's known cancellations.
                known = series.recurrence.exdates if series.recurrence else ()
                rec = replace(master.event.recurrence, exdates=known)
                series = replace(master.event, recurrence=rec, overrides=())
            elif item.side.fingerprint != link.host_fingerprint:
                return None  # the host's own rule may differ from the remote's: read it later
            return absent_occurrences(series, slots, window.start, window.end)

    async def _cancel_occurrences(self, series_id: str, missing: list[EventTime]) -> None:
        async with self._session() as session:
            await self._cancel_in(session, series_id, missing)
            await self._settled(session)

    async def _cancel_in(
        self, session: AsyncSession, series_id: str, missing: list[EventTime]
    ) -> None:
        _, _, view, links = await self._context(session)
        link = await links.by_remote(series_id)
        assert link is not None
        row = await view.load(link.entry_kind, link.entry_id)
        # An occurrence both sides already held cancelled is no news: the host may have
        # brought it back since (its write goes out next), and its echo must not undo that.
        synced = link.occurrences or {}
        missing = [m for m in missing if synced.get(time_key(m)) != overrides.CANCELLED]
        if not missing or not isinstance(row, Appointment):
            return
        before = await view.item(row)
        if before is None:
            return
        gone = {time_key(m) for m in missing}
        link.occurrences = {**synced, **dict.fromkeys(gone, overrides.CANCELLED)}
        known = len(row.exdates)
        row.exdates = merge_exdates(row.exdates, [m.isoformat() for m in missing])
        if len(row.exdates) == known:
            return
        row.overrides = [o for o in row.overrides if overrides.slot(o) not in gone]
        self.counts["in"]["appointment.occurrence_cancelled"] += len(row.exdates) - known
        after = await view.item(row)
        if after is not None and before.side.fingerprint == link.host_fingerprint:
            # The remote already holds these cancellations: the link's host side moves
            # with them, so the push does not send the series back.
            await self._move_host_side(session, link, row, after.side.fingerprint)

    # --- push: host -> remote -----------------------------------------------------------

    async def push(self, *, backfill: bool) -> None:
        async with self.engine.sessionmaker() as session:
            connection, _, view, links = await self._context(session)
            pending = await session.execute(
                select(OutboxRow.entry_kind, OutboxRow.entry_id)
                .where(
                    OutboxRow.firm_id == self.firm_id,
                    OutboxRow.user_id == connection.user_id,
                    OutboxRow.processed_at.is_(None),
                )
                .order_by(OutboxRow.id)
            )
            queued = dict.fromkeys((k, e) for k, e in pending.all())
            if backfill and connection.backfill == Backfill.UPCOMING:
                window = self._window(connection, view.firm_tz)
                synced = await links.synced_versions()
                for kind, entry_id, version in await view.audience_keys(window.start):
                    # An entry whose live link is of its current version is on the remote
                    # already (this pass's pull just linked it): nothing to plan.
                    if synced.get((kind, entry_id)) != version:
                        queued.setdefault((kind, entry_id))
            work = list(queued)
        chunk = max(1, self.provider.capabilities.max_batch_size)
        writes: list[_Write] = []
        for done, (kind, entry_id) in enumerate(work, start=1):
            write = await self._settle_host(kind, entry_id, collect=True)
            if write is not None:
                writes.append(write)
                if len(writes) >= chunk:
                    await self._flush(writes)
                    writes = []
            self.progress("push", done, len(work))
        if not self.deferred:
            await self._flush(writes)
            return
        # The last writes wait for the guard's review, to go out in one batch with the
        # deletions; when the guard holds the deletions back, the writes go out alone.
        try:
            await self._review_deferred()
        except DeletionsPaused:
            await self._flush(writes)
            raise
        await self._apply_deferred(writes)

    async def _settle_host(
        self, kind: EntryKind, entry_id: uuid.UUID, *, collect: bool = False
    ) -> _Write | None:
        """Plan one host entry and act on it. With ``collect``, a plain remote create or
        update is not performed but returned, to go out in a batch with others."""
        async with self.engine.sessionmaker() as session:
            connection, policy, view, links = await self._context(session)
            link = await links.by_entry(kind, entry_id)
            row = await view.load(kind, entry_id)
            item = await view.item(row)
            remote_side: RemoteSide | None = None
            if link is not None and link.tombstoned_at is None:
                remote_side = RemoteSide(
                    fingerprint=link.remote_fingerprint,
                    etag=link.remote_etag or None,
                    modified=link.updated_at,
                    ours=True,
                )
            action = plan(link_state(link), item.side if item else None, remote_side, policy)
            if action.op is Op.NOTHING:
                await self._ack(session, connection, kind, entry_id, _version(row))
                await session.commit()
                return None
            if action.deletes:
                link_id = link.id if link else None
                self.deferred.append(_Deferred(action, None, remote_side, link_id, kind, entry_id))
                return None
            if collect and item is not None and _batchable(action):
                target = link.remote_id if link is not None else None
                changed = _changed(link)
                if action.effect is Op.CREATE_REMOTE or target is None:
                    op: pb.WriteOp = pb.CreateOp(item.event, _tag(item, connection), changed)
                else:
                    op = pb.UpdateOp(target, item.event, _tag(item, connection), action.if_match,
                                     changed)  # fmt: skip
                return _Write(op, action, kind, entry_id, link.id if link else None,
                              item.side.fingerprint, item.row.version,
                              _sent_occurrences(item))  # fmt: skip
            await self._perform(session, action, link, row, item, None, kind, entry_id)
            return None

    async def _flush(self, writes: list[_Write], deletes: Sequence[_Delete] = ()) -> None:
        """Send collected writes and planned deletions of linked events: one at a time when
        there are only a few, else together through the provider's batch endpoint. Each
        answer is then settled like a single write: links and acknowledgements of the writes
        that landed are saved together, in one transaction, and a write that failed goes back
        through the single path (re-planned, and its error handled or raised there); the
        deletions are settled as ``_settle_deletes`` says."""
        if not writes and not deletes:
            return
        if len(writes) + len(deletes) < BATCH_FROM:
            for write in writes:
                await self._settle_host(write.kind, write.entry_id)
            await self._settle_deletes(deletes, [await self._delete_one(d) for d in deletes])
            return
        ops = [write.op for write in writes] + [pb.DeleteOp(d.remote_id, d.etag) for d in deletes]
        results = await self.provider.write_batch(self.calendar_id, ops)
        written, deleted = results[: len(writes)], results[len(writes) :]
        outcomes = [r if isinstance(r, ProviderError) else None for r in deleted]
        try:
            await self._settle_writes(writes, written)
        finally:
            # The deletions landed whatever a write's retry raises: record them as done.
            await self._settle_deletes(deletes, outcomes)

    async def _settle_writes(
        self, writes: list[_Write], results: list[pb.WriteResult | ProviderError]
    ) -> None:
        if not writes:
            return
        retry: list[_Write] = []
        replan: list[pb.RemoteEvent] = []
        async with self.engine.sessionmaker() as session:
            connection, _, _, links = await self._context(session)
            for write, result in zip(writes, results, strict=True):
                if isinstance(result, ProviderError):
                    retry.append(write)
                    continue
                if result.reused and _fingerprint(result) not in (None, write.fingerprint):
                    assert result.remote is not None
                    replan.append(result.remote)  # an earlier event of ours, other content
                    continue
                link = await session.get(Link, write.link_id) if write.link_id else None
                links.save(
                    link, kind=write.kind, entry_id=write.entry_id, remote_id=result.id,
                    etag=result.etag, host_fingerprint=write.fingerprint,
                    remote_fingerprint=_fingerprint(result) or write.fingerprint,
                    host_version=write.version, occurrences=write.occurrences,
                )  # fmt: skip
                await self._ack(session, connection, write.kind, write.entry_id, write.version)
                restore = write.action.op in (Op.RESTORE_OVERWRITE, Op.RESTORE_RECREATE)
                verb = "create" if isinstance(write.op, pb.CreateOp) else "update"
                self._count("out", write.kind, "restore" if restore else verb)
            await session.commit()
        for remote in replan:
            await self._settle_remote(remote.id, remote)
        for write in retry:
            await self._settle_host(write.kind, write.entry_id)

    # --- the guard ----------------------------------------------------------------------

    async def _review_deferred(self) -> None:
        """Let the guard see the deletions this phase planned (nothing to see: no read)."""
        if not self.deferred:
            return
        async with self.engine.sessionmaker() as session:
            _, _, _, links = await self._context(session)
            await self._review(await links.live_count())

    async def _review(self, linked: int, *, listed: int | None = None) -> None:
        async with self.engine.sessionmaker() as session:
            connection = await session.get(Connection, self.connection_id)
            assert connection is not None
            confirmed = connection.confirmed_deletions
        verdict = review(
            linked, len(self.deferred), listed=listed, confirmed=confirmed,
            limits=self.engine.limits,
        )  # fmt: skip
        if verdict.tripped:
            self.deferred.clear()
            raise DeletionsPaused(verdict)
        if confirmed and self.deferred:
            async with self.engine.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Connection)
                    .where(Connection.id == self.connection_id)
                    .values(confirmed_deletions=0)
                )

    async def _apply_deferred(self, writes: list[_Write] | None = None) -> None:
        """Carry out the deletions the guard let through (re-planned first), in one batch
        with ``writes`` (collected remote writes still to send), when there are any."""
        deferred, self.deferred = self.deferred, []
        deletes: list[_Delete] = []
        for item in deferred:
            async with self.engine.sessionmaker() as session:
                connection, policy, view, _ = await self._context(session)
                link = await session.get(Link, item.link_id) if item.link_id else None
                row = await view.load(item.kind, item.entry_id)
                host = await view.item(row)
                # Plan again: the host may have changed while the round paged on, and an edit
                # made meanwhile must win over a deletion planned before it.
                side = host.side if host else None
                action = plan(link_state(link), side, item.remote_side, policy)
                if action.op is Op.NOTHING:
                    await self._ack(session, connection, item.kind, item.entry_id, _version(row))
                    await session.commit()
                    continue
                if action.conflict is None and action.effect is Op.DELETE_REMOTE and link:
                    deletes.append(_Delete(link.id, link.remote_id, action.if_match,
                                           item.kind, item.entry_id, _version(row)))  # fmt: skip
                    continue
                await self._perform(
                    session, action, link, row, host, item.remote, item.kind, item.entry_id
                )
        await self._flush(writes or [], deletes)

    async def _delete_one(self, d: _Delete) -> ProviderError | None:
        try:
            await self.provider.delete_event(self.calendar_id, d.remote_id, etag=d.etag)
        except ProviderError as exc:
            return exc
        return None

    async def _settle_deletes(
        self, deletes: Sequence[_Delete], outcomes: Sequence[ProviderError | None]
    ) -> None:
        """An event already gone counts as deleted. The links of the deletions that landed
        are tombstoned together; the first other failure is raised after that (the next pass
        reads the event again and re-plans)."""
        if not deletes:
            return
        failure: ProviderError | None = None
        async with self.engine.sessionmaker() as session:
            connection, _, _, _ = await self._context(session)
            for d, error in zip(deletes, outcomes, strict=True):
                if error is not None and not isinstance(error, NotFound | Gone):
                    failure = failure or error
                    continue
                link = await session.get(Link, d.link_id)
                if link is not None:
                    link.tombstoned_at = utcnow()
                await self._ack(session, connection, d.kind, d.entry_id, d.version)
                self._count("out", d.kind, "delete")
            await session.commit()
        if failure is not None:
            raise failure

    # --- performing one action ----------------------------------------------------------

    async def _perform(
        self,
        session: AsyncSession,
        action: Action,
        link: Link | None,
        row: EntryRow | None,
        item: HostItem | None,
        remote: pb.RemoteEvent | None,
        kind: EntryKind | None,
        entry_id: uuid.UUID | None,
    ) -> None:
        connection, _, view, links = await self._context(session)
        seen_version = _version(row)  # before any write of ours can bump it
        if action.writes_remote:
            await self._before_remote_write(session)
        if action.conflict is not None:
            session.add(_conflict_record(connection, action, item, remote, link, kind, entry_id))
            await session.commit()
            self._count("in", str(kind), "conflict")
        effect = action.effect
        if effect in (Op.CREATE_REMOTE, Op.UPDATE_REMOTE):
            assert item is not None
            settled = await self._write_remote(
                session, connection, links, link, item, remote, effect, action
            )
            if not settled:
                return  # a 412: the pair was re-read and settled in its own transaction
        elif effect is Op.DELETE_REMOTE:
            # A tagged event whose link was lost (crash before the link save) has no link.
            target = link.remote_id if link is not None else (remote.id if remote else None)
            if target is not None:
                with suppress(NotFound, Gone):  # already gone: the goal is reached
                    await self.provider.delete_event(self.calendar_id, target, etag=action.if_match)
                self._count("out", str(kind or (link.entry_kind if link else "")), "delete")
            if link is not None:
                link.tombstoned_at = utcnow()
        elif effect in (Op.CREATE_HOST, Op.UPDATE_HOST):
            assert remote is not None
            assert remote.event is not None
            await self._write_host(view, links, link, row, remote, connection, effect)
        elif effect is Op.DELETE_HOST:
            assert link is not None
            if row is not None:
                view.delete_entry(row)
            link.tombstoned_at = utcnow()
            self._count("in", link.entry_kind, "delete")
        elif effect in (Op.ADOPT,):
            assert item is not None
            assert remote is not None
            assert remote.event is not None
            links.save(
                link, kind=item.row.kind, entry_id=item.row.id, remote_id=remote.id,
                etag=remote.etag, host_fingerprint=item.side.fingerprint,
                remote_fingerprint=remote.event.fingerprint(), host_version=item.row.version,
            )  # fmt: skip
            self._count("in", item.row.kind, "adopt")
        elif effect in (Op.FORGET, Op.ACCEPT_REMOTE_DELETE) and link is not None:
            link.tombstoned_at = utcnow()
            link.remote_delete_respected = effect is Op.ACCEPT_REMOTE_DELETE
        if kind is not None and entry_id is not None:
            await self._ack(session, connection, kind, entry_id, seen_version)
        if action.writes_remote:
            await session.commit()  # the remote write is done: its link is durable now (I3)
        else:
            await self._settled(session)

    async def _write_remote(
        self,
        session: AsyncSession,
        connection: Connection,
        links: LinkStore,
        link: Link | None,
        item: HostItem,
        remote: pb.RemoteEvent | None,
        effect: Op,
        action: Action,
    ) -> bool:
        """Write the host values out; False when the pair went back to be re-planned (a 412,
        or a create that found an earlier event of ours holding other content)."""
        tag = _tag(item, connection)
        restore = action.op in (Op.RESTORE_OVERWRITE, Op.RESTORE_RECREATE)
        # An update targets the event the plan looked at: the linked one, or (no link yet) the
        # tagged event the listing showed. Only a planned create ever creates.
        target = link.remote_id if link is not None else (remote.id if remote else None)
        changed = _changed(link)
        if effect is Op.CREATE_REMOTE or target is None:
            result = await self.provider.create_event(
                self.calendar_id, item.event, tag, changed=changed
            )
            if result.reused and _fingerprint(result) not in (None, item.side.fingerprint):
                # The create is idempotent per (connection, entry), so it found the event an
                # earlier create made, and that event holds other content (an edit since, or
                # an older version of the entry). Recording it as synced would leave both
                # sides apart for good: plan the pair again against what is there.
                await self._rollback(session)
                assert result.remote is not None
                await self._settle_remote(result.id, result.remote)
                return False
            self._count("out", item.row.kind, "restore" if restore else "create")
        else:
            try:
                result = await self.provider.update_event(
                    self.calendar_id, target, item.event, tag, etag=action.if_match,
                    changed=changed,
                )  # fmt: skip
            except PreconditionFailed:
                # Someone edited it since our read: re-read and re-plan with the fresh version
                # (never retry blindly with a stale etag).
                fresh = await self.provider.get_event(self.calendar_id, target)
                await self._rollback(session)
                await self._settle_remote(fresh.id, fresh)
                return False
            except (NotFound, Gone):
                result = await self.provider.create_event(
                    self.calendar_id, item.event, tag, changed=changed
                )
            self._count("out", item.row.kind, "restore" if restore else "update")
        remote_fp = (
            result.remote.event.fingerprint()
            if result.remote is not None and result.remote.event is not None
            else item.side.fingerprint
        )
        links.save(
            link, kind=item.row.kind, entry_id=item.row.id, remote_id=result.id,
            etag=result.etag, host_fingerprint=item.side.fingerprint,
            remote_fingerprint=remote_fp, host_version=item.row.version,
            occurrences=_sent_occurrences(item),
        )  # fmt: skip
        return True

    async def _write_host(
        self,
        view: HostView,
        links: LinkStore,
        link: Link | None,
        row: EntryRow | None,
        remote: pb.RemoteEvent,
        connection: Connection,
        effect: Op,
    ) -> None:
        assert remote.event is not None
        fields = appointment_fields(remote.event, full_details=connection.import_private_details)
        synced_as: str | None = None
        """The host fingerprint the link records, when not that of what the host holds."""
        if isinstance(row, Appointment):
            # An update, or a create on a linked pair whose entry was deleted: bring the same
            # entry back (clearing its tombstone) rather than making a second one.
            # Kept only while the rule stays: a new rule resets a series' cancellations (on
            # Graph, which then shows the real ones by their absence again).
            same_rule = recurrence.same_rule(
                row.rrule, _local_start(row.start_at, row.start_date, row.time_zone),
                fields.rrule, _local_start(fields.start_at, fields.start_date, fields.time_zone),
            )  # fmt: skip
            cancelled = list(row.exdates) if same_rule else []
            changed = list(row.overrides) if same_rule else []
            if (
                not same_rule
                and fields.rrule
                and self.provider.capabilities.exceptions_outlive_rule
            ):
                # The provider keeps what the new rule still has (see Capabilities).
                start = _local_start(fields.start_at, fields.start_date, fields.time_zone)
                assert start is not None
                slots = [overrides.parse_time(x) for x in row.exdates] + [
                    overrides.parse_time(x["original_start"]) for x in row.overrides
                ]
                kept = occurrence_keys(fields.rrule, start, fields.time_zone, slots)
                cancelled = [x for x in row.exdates if time_key(overrides.parse_time(x)) in kept]
                changed = [x for x in row.overrides if overrides.slot(x) in kept]
            if not same_rule and link is not None and link.occurrences:
                # What the new rule dropped is no longer held on either side: a later
                # cancellation of that occurrence is news, not an echo.
                still = {time_key(overrides.parse_time(x)) for x in cancelled}
                still |= {overrides.slot(x) for x in changed}
                link.occurrences = {k: v for k, v in link.occurrences.items() if k in still}
            before = await view.item(row)
            unsynced = before is not None and (
                link is None or before.side.fingerprint != link.host_fingerprint
            )
            view.update_appointment(row, fields)
            if unsynced and (cancelled or changed):
                # A conflict the remote won (or an adoption with no link to compare with):
                # what the host keeps of its occurrences may hold a change of its own not yet
                # on the remote (an occurrence cancelled since the last pass, or never sent).
                # Recording the series without it as synced makes the next push write it
                # out (again, for what the remote had already).
                with view.session.no_autoflush:
                    bare = await view.item(row)
                synced_as = bare.event.fingerprint() if bare is not None else None
            if cancelled:
                # Google keeps a cancelled occurrence as an instance of its own, not on the
                # series: a series read again does not list it, and must not undo it.
                row.exdates = merge_exdates(row.exdates, cancelled)
            for change in changed:
                # Changed occurrences too are instances of their own on both providers.
                row.overrides = overrides.merge(row.overrides, change)
            row.deleted_at = None
            target = row
            self._count("in", "appointment", "update" if effect is Op.UPDATE_HOST else "restore")
        else:
            target = view.create_appointment(fields)
            # The identity map holds rows weakly: keep it while the page may still need it.
            view.session.info.setdefault("prefetched", []).append(target)
            self._count("in", "appointment", "create")
        target.updated_at = utcnow()
        # The host fingerprint is of what the host now holds, mapped the one way the view maps
        # every entry (case included), so the next pass does not mistake it for a change.
        held = await view.item(target)
        host_fingerprint = held.event.fingerprint() if held is not None else ""
        if synced_as is not None and synced_as != host_fingerprint:
            host_fingerprint = synced_as
            # ...through a pending row of the entry's next version, written with the link so
            # that a crash before this pass's push cannot lose it (the ack of the version
            # this write started from leaves it pending).
            mine = frozenset({connection.user_id})
            outbox.record(view.session, target, OutboxOp.UPDATED, mine, (target.version or 0) + 1)
        links.save(
            link, kind=EntryKind.APPOINTMENT, entry_id=target.id, remote_id=remote.id,
            etag=remote.etag, host_fingerprint=host_fingerprint,
            remote_fingerprint=remote.event.fingerprint(), host_version=target.version or 1,
        )  # fmt: skip

    async def _ack(
        self,
        session: AsyncSession,
        connection: Connection,
        kind: EntryKind,
        entry_id: uuid.UUID,
        version: int | None,
    ) -> None:
        """Acknowledge the entry's pending rows up to the version this pass acted on; a row of
        a newer edit (saved while the pass ran) stays pending for the next pass."""
        query = update(OutboxRow).where(
            OutboxRow.firm_id == self.firm_id,
            OutboxRow.user_id == connection.user_id,
            OutboxRow.entry_kind == kind,
            OutboxRow.entry_id == entry_id,
            OutboxRow.processed_at.is_(None),
        )
        if version is not None:
            query = query.where(OutboxRow.entry_version <= version)
        await session.execute(query.values(processed_at=utcnow()))


PAGE_COMMIT = 200
"""A page's host-side effects are committed every this many items (and at its end)."""

BATCH_FROM = 3
"""Collected writes go through the batch endpoint from this many on; fewer go one by one."""


@dataclass(frozen=True, slots=True)
class _Write:
    """A planned remote create or update held for a batch, with what its link save needs."""

    op: pb.WriteOp
    action: Action
    kind: EntryKind
    entry_id: uuid.UUID
    link_id: uuid.UUID | None
    fingerprint: str
    version: int
    occurrences: dict[str, str]
    """What the write leaves on the remote occurrence by occurrence (``Link.occurrences``)."""


@dataclass(frozen=True, slots=True)
class _Delete:
    """A planned remote deletion of a linked event, held to go out with the others."""

    link_id: uuid.UUID
    remote_id: str
    etag: str | None
    kind: EntryKind
    entry_id: uuid.UUID
    version: int | None


def _batchable(action: Action) -> bool:
    """A plain remote create or update (no conflict record to store first)."""
    return action.conflict is None and action.effect in (Op.CREATE_REMOTE, Op.UPDATE_REMOTE)


def _changed(link: Link | None) -> frozenset[str]:
    """The occurrences the remote holds changed on their own, as last synced."""
    held = link.occurrences or {} if link is not None else {}
    return frozenset(k for k, v in held.items() if v != overrides.CANCELLED)


def _sent_occurrences(item: HostItem) -> dict[str, str]:
    """What a write of the host entry leaves on the remote, occurrence by occurrence: the
    digests of the series' overrides it sends, and its cancelled occurrences."""
    if not isinstance(item.row, Appointment):
        return {}
    sent = {time_key(o.original_start) for o in item.event.overrides}
    held = overrides.synced(x for x in item.row.overrides if overrides.slot(x) in sent)
    return held | {time_key(x): overrides.CANCELLED for x in item.event.cancelled}


def _tag(item: HostItem, connection: Connection) -> Tag:
    return Tag(entry_id=item.row.id, kind=item.row.kind, connection_id=connection.id)


def _fingerprint(result: pb.WriteResult) -> str | None:
    """The fingerprint of the event a write's answer holds (None when it holds none)."""
    if result.remote is None or result.remote.event is None:
        return None
    return result.remote.event.fingerprint()


def _local_start(at: datetime | None, day: date | None, tz: str) -> EventTime | None:
    """A series' start where its rule is read: the local time of a timed one, or its day."""
    return at.astimezone(ZoneInfo(tz)) if at is not None else day


def _version(row: EntryRow | None) -> int | None:
    return row.version if row is not None else None


def _remote_side(remote: pb.RemoteEvent | None, connection_id: uuid.UUID) -> RemoteSide | None:
    if remote is None or remote.event is None:
        return None
    ours = remote.tag is not None and remote.tag.connection_id == connection_id
    return RemoteSide(
        fingerprint=remote.event.fingerprint(),
        etag=remote.etag,
        modified=remote.modified_at or utcnow(),
        ours=ours,
        kind=remote.tag.kind if ours and remote.tag is not None else None,
    )


def _snapshot(event: CanonicalEvent | None) -> dict[str, Any]:
    if event is None:
        return {"deleted": True}
    return {
        "title": event.title,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "time_zone": event.tz,
        "location": event.location,
        "description": event.description,
        "fingerprint": event.fingerprint(),
    }


def _occurrence_conflict(
    connection: Connection,
    row: Appointment,
    won: Side,
    host: overrides.Stored,
    remote: overrides.Stored,
) -> ConflictRecord:
    """The record of one occurrence of a series changed on both sides; its snapshots name
    the occurrence, so a restore brings back that occurrence alone."""
    if "title" not in host:
        host = {**host, "removed": "true"}  # the host had removed its change of the occurrence
    winner_snapshot, loser_snapshot = (host, remote) if won is Side.HOST else (remote, host)
    return ConflictRecord(
        firm_id=connection.firm_id, connection_id=connection.id,
        entry_kind=EntryKind.APPOINTMENT, entry_id=row.id, winner=won.value,
        winner_snapshot={"occurrence": True, **winner_snapshot},
        loser_snapshot={"occurrence": True, **loser_snapshot},
    )  # fmt: skip


def _conflict_record(
    connection: Connection,
    action: Action,
    item: HostItem | None,
    remote: pb.RemoteEvent | None,
    link: Link | None,
    kind: EntryKind | None,
    entry_id: uuid.UUID | None,
) -> ConflictRecord:
    assert action.conflict is not None
    host_snap = _snapshot(item.event if item else None)
    remote_snap = _snapshot(remote.event if remote else None)
    host_wins = action.conflict.winner.value == "host"
    return ConflictRecord(
        firm_id=connection.firm_id,
        connection_id=connection.id,
        entry_kind=kind or (link.entry_kind if link else EntryKind.APPOINTMENT),
        entry_id=entry_id or (link.entry_id if link else uuid.uuid4()),
        winner=action.conflict.winner.value,
        winner_snapshot=host_snap if host_wins else remote_snap,
        loser_snapshot=remote_snap if host_wins else host_snap,
    )


__all__ = ["UNKNOWN", "DeletionsPaused", "HostSide", "PassReport", "SyncEngine", "policy_of"]
