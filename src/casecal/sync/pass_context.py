"""The state one sync pass carries from phase to phase, and the one place that decides when
the database work of a pass commits.

Every phase module (``pull``, ``occurrences``, ``push``, ``writes``, ``deletions``,
``act``) takes a ``Pass`` and imports nothing above itself; ``engine`` drives them.

When a pass commits
-------------------
Outside a page, each settled pair is saved in its own transaction (``commit_settled``), so a
crash loses at most the pair in flight and a rerun redoes it idempotently. While a page of a
change round is applied (``Pass.page`` is its session), its host-side effects are committed
together: every ``PAGE_COMMIT`` items (``commit_page_progress``, to keep SQLite's write lock
short) and at its end (``commit_page``); the cursor is only saved after the whole round, so
a crash loses the page, which the rerun applies again. Inside a page, a remote write
(``commit_before_remote_write``) or a remote read (``commit_before_remote_read``) commits
what came before it first, so a rollback after it discards nothing but the pair in flight
and no write lock is held across a request. Outside these methods, only a function whose
name ends in ``_and_commit`` commits; the phase functions that call one (``change_round``,
``occurrence_news``, the engine's loop) commit as it does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.domain.effective_settings import EffectiveSettings, effective_all
from casecal.domain.entitlement import Entitlement
from casecal.domain.guard import Limits
from casecal.domain.plan import Action, RemoteSide
from casecal.domain.policy import Policy
from casecal.domain.window import Backfill, sync_window
from casecal.errors import NotFound as DomainNotFound
from casecal.providers import base as pb
from casecal.store.settings_tables import SettingValue
from casecal.store.tables import (
    Appointment,
    Connection,
    EntryKind,
    Firm,
    Link,
    SyncCursor,
    utcnow,
)
from casecal.sync.entitlement_query import entitlement_columns, entitlement_from
from casecal.sync.hostview import HostView
from casecal.sync.links import LinkStore
from casecal.sync.outcomes import Counts, Direction, Tally, count_key, new_counts
from casecal.sync.settings_query import levels_of, scope_of, team_of

Progress = Callable[[str, int, int | None], None]
"""Told (phase, items done, items in the phase or None when unknown) as a pass goes."""

PAGE_COMMIT = 200
"""A page's host-side effects are committed every this many items (and at its end)."""


@dataclass(frozen=True, slots=True)
class PassBasis:
    """What a pass reads once, at its start, in one statement (``read_basis``): its
    connection, the firm, the cursor row (None before the first pass), its user's
    entitlement and the settings in force for them. The pass holds the connection's lock, so
    none of it changes under it but through the pass itself; the rows are detached, and every
    session of the pass reads them from here instead of the database."""

    connection: Connection
    firm: Firm
    cursor: SyncCursor | None
    entitled: Entitlement
    settings: EffectiveSettings


async def read_basis(
    session: AsyncSession, firm_id: uuid.UUID, connection_id: uuid.UUID
) -> PassBasis | None:
    """The connection of ``firm_id`` (None: no such connection in that firm), its firm, its
    cursor, its user's entitlement and settings, in one query (a row per stored setting that
    applies to the user, one when none does); the rows come back detached."""
    status, seated = entitlement_columns(Connection.firm_id, Connection.user_id)
    team = team_of(Connection.user_id, Connection.firm_id)
    applies = scope_of(Connection.firm_id, team_id=team, user_id=Connection.user_id)
    query = (
        select(Connection, Firm, SyncCursor, status, seated, SettingValue)
        .join(Firm, Firm.id == Connection.firm_id)
        .outerjoin(SyncCursor, SyncCursor.connection_id == Connection.id)
        .outerjoin(SettingValue, applies)
        .where(Connection.id == connection_id, Connection.firm_id == firm_id)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    connection, firm, cursor, subscription, has_seat, _ = rows[0]
    stored = [row[5] for row in rows if row[5] is not None]
    for loaded in (connection, firm, cursor, *stored):
        if loaded is not None:
            session.expunge(loaded)  # no rollback of this session expires them under the pass
    settings = effective_all(levels_of(stored, firm.settings))
    entitled = entitlement_from(subscription, has_seat)
    return PassBasis(connection, firm, cursor, entitled, settings)


@dataclass(frozen=True, slots=True)
class PassContext:
    """What every step of a pass reads through one session: the connection, the settings in
    force for its user and the policy they make, and the host and link stores bound to that
    session."""

    connection: Connection
    settings: EffectiveSettings
    policy: Policy
    view: HostView
    links: LinkStore


@dataclass(frozen=True, slots=True)
class Deferred:
    """A planned deletion, held until the guard has seen all of a phase's deletions."""

    action: Action
    remote: pb.RemoteEvent | None
    remote_side: RemoteSide | None
    """The remote side as read when the deletion was planned (re-planned against it)."""
    link_id: uuid.UUID | None
    kind: EntryKind
    entry_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Replan:
    """A pair to plan again against what the remote holds now (a 412 re-read, or a create
    that found an earlier event of ours holding other content). Phases return it; the
    engine's loop hands it to the pull phase, which settles remote changes."""

    remote_id: str
    remote: pb.RemoteEvent | None


@dataclass
class Pass:
    """The state of one pass of one connection."""

    sessionmaker: async_sessionmaker[AsyncSession]
    base_url: str
    connection_id: uuid.UUID
    firm_id: uuid.UUID
    progress: Progress = lambda _phase, _done, _total: None
    counts: Counts = field(default_factory=new_counts)
    deferred: list[Deferred] = field(default_factory=list)
    masters_seen: set[str] = field(default_factory=set)
    """Series masters settled (or being settled) this pass: their occurrences need not."""
    masters: dict[str, pb.RemoteEvent] = field(default_factory=dict)
    """Series masters read this pass, by id: what a series is on the remote (``keep_master``:
    a listed event only when it can be a series' master, so a long listing is not held)."""
    moved: list[tuple[Link, Appointment]] = field(default_factory=list)
    """Links whose host side the page being applied moved, their versions to settle at its
    end."""
    absences_read: set[str] = field(default_factory=set)
    """Series whose absences the page being applied has read."""
    page: AsyncSession | None = None
    """The session of the change-round page being applied, when one is."""
    calendar_id: str = ""
    settings: EffectiveSettings | None = None
    """The settings in force for the connection's user (firm, team, user, with their locks),
    loaded once per pass with the first context, then shared by every session of the pass."""
    basis: PassBasis | None = None
    """The connection, firm and cursor as the pass read them at its start (the engine's
    first statement); without it, the first context reads the connection and the firm."""
    cursor_saved: dict[str, object] = field(default_factory=dict)
    """Columns of the cursor row to store when the pass finishes, with the run's record, in
    its transaction (the settings digest, once the push has planned with it)."""
    _provider: pb.Provider | None = None

    @property
    def provider(self) -> pb.Provider:
        if self._provider is None:
            raise RuntimeError("the pass has no provider yet")
        return self._provider

    @provider.setter
    def provider(self, value: pb.Provider) -> None:
        self._provider = value

    @property
    def limits(self) -> Limits:
        """The mass-delete guard's limits in force (``guard.percent`` / ``guard.minimum``)."""
        if self.settings is None:
            raise RuntimeError("the pass has not loaded its settings yet")
        return self.settings.limits()

    def keep_master(self, remote: pb.RemoteEvent) -> None:
        """Keep a listed event that is not an occurrence in ``masters`` when it can be the
        master its series' occurrences ask for: a recurring event, or a cancelled one (a
        series deleted). A single event is nobody's master; holding every one of a full
        listing would make a pass's memory grow with the calendar."""
        if remote.event is None or remote.event.recurrence is not None:
            self.masters[remote.id] = remote

    def count(self, direction: Direction, kind: str, tally: Tally, n: int = 1) -> None:
        self.counts[direction][count_key(kind, tally)] += n

    async def context(self, session: AsyncSession) -> PassContext:
        """The connection, its user's settings and policy, and the host and link stores bound
        to ``session``, once per session (kept in ``session.info``). The connection and firm
        are those of the pass's basis (read once, at its start; detached rows, read-only), the
        settings are read once per pass (one query, the first time): a context costs no
        statement after the first."""
        cached: PassContext | None = session.info.get("sync_context")
        if cached is not None:
            return cached
        if self.basis is None:
            self.basis = await read_basis(session, self.firm_id, self.connection_id)
            if self.basis is None:
                raise DomainNotFound("the connection or its firm is gone")
        connection, firm = self.basis.connection, self.basis.firm
        if self.settings is None:
            self.settings = self.basis.settings
        settings = self.settings
        view = HostView(
            session, connection, settings, base_url=self.base_url, firm_tz=firm.time_zone
        )
        links = LinkStore(session, connection)
        context = PassContext(connection, settings, settings.policy(), view, links)
        session.info["sync_context"] = context
        return context

    def window(self, connection: Connection, firm_tz: str) -> pb.SyncWindow:
        """The part of the calendar this connection syncs."""
        activated = connection.activated_at or utcnow()
        window = sync_window(Backfill(connection.backfill), activated, ZoneInfo(firm_tz))
        return pb.SyncWindow(start=window.start, end=window.end)

    # --- sessions and commits (see the module docstring) ---------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The page's session while a page is applied, else a session of its own."""
        if self.page is not None:
            yield self.page
            return
        async with self.sessionmaker() as session:
            yield session

    async def commit_settled(self, session: AsyncSession) -> None:
        """A pair is settled: commit, unless it is part of a page (committed as one)."""
        if session is not self.page:
            await session.commit()

    async def commit_before_remote_write(self, session: AsyncSession) -> None:
        """Commit the page so far before a remote write, so that a rollback after it (a 412,
        a reused create) discards nothing but the pair in flight."""
        if session is self.page:
            await session.commit()

    async def commit_before_remote_read(self) -> None:
        """Hold no page write lock across a remote read."""
        if self.page is not None:
            await self.page.commit()

    async def commit_page_progress(self, session: AsyncSession, done: int) -> None:
        """Commit a long page every ``PAGE_COMMIT`` items (keeps SQLite's write lock short)."""
        if done % PAGE_COMMIT == 0:
            await session.commit()

    async def commit_page(self, session: AsyncSession) -> None:
        """The page is applied: settle the versions of the links it moved, and commit."""
        await self.settle_moved(session)
        await session.commit()

    async def rollback(self, session: AsyncSession) -> None:
        await session.rollback()
        session.info.pop("links_by_remote", None)  # it may name links the rollback discarded

    async def move_host_side(
        self, session: AsyncSession, link: Link, row: Appointment, fingerprint: str
    ) -> None:
        """Record a host change that the remote already holds as synced: the link takes the
        row's new fingerprint and, once flushed, its new version (so the backfill skips it).
        In a page, the versions are settled once at its end (one flush, not one per
        occurrence)."""
        link.host_fingerprint = fingerprint
        if session is self.page:
            self.moved.append((link, row))
            return
        await session.flush()
        link.host_version = row.version

    async def settle_moved(self, session: AsyncSession) -> None:
        if self.moved:
            await session.flush()
            for link, row in self.moved:
                link.host_version = row.version
            self.moved.clear()
