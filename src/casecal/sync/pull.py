"""The pull phase: a change round of the remote calendar, page by page, each remote change
planned against its link and host entry (``domain.plan``) and carried out (``act``).
Deletions are only planned here (``Pass.deferred``); the guard sees them all before any is
carried out. Re-plans of this phase's own writes are settled here too."""

from __future__ import annotations

import uuid
from collections.abc import Container
from dataclasses import dataclass, replace

import structlog
from sqlalchemy import update

from casecal.domain.plan import Op, plan
from casecal.providers import base as pb
from casecal.providers.errors import Gone, NotFound
from casecal.store.tables import EntryKind, SyncCursor
from casecal.sync.act import perform_and_commit
from casecal.sync.cursors import ensure_cursor
from casecal.sync.deletions import review_and_commit
from casecal.sync.links import link_state
from casecal.sync.occurrences import absences_and_commit, master, occurrence_in, occurrence_news
from casecal.sync.outcomes import Direction, Tally
from casecal.sync.pass_context import Deferred, Pass, Replan
from casecal.sync.sides import remote_side

log = structlog.get_logger("casecal.sync")


@dataclass(frozen=True, slots=True)
class RoundStart:
    """Where a change round starts: the stored cursor (None for a full listing), the host
    version it will have caught up with, and the window it lists."""

    cursor: str | None
    version: int
    window: pb.SyncWindow


async def round_start_and_commit(p: Pass) -> RoundStart:
    """Where the round starts: the cursor row the pass read at its start, or on a first pass
    the row created (and committed) now."""
    basis = p.basis
    row = basis.cursor if basis is not None else None
    if basis is None or row is None:
        async with p.sessionmaker() as session:
            await p.context(session)  # the basis, when the pass has none yet
            row = await ensure_cursor(session, p.connection_id, p.firm_id)
            session.expunge(row)
        assert p.basis is not None
        basis = p.basis = replace(p.basis, cursor=row)
    full = row.cursor is None or row.version > row.synced_version
    return RoundStart(
        cursor=None if full else row.cursor,
        version=row.version,
        window=p.window(basis.connection, basis.firm.time_zone),
    )


async def save_cursor_and_commit(p: Pass, start: RoundStart, final: str | None) -> None:
    """The round is settled (its deletions too): store where the next one starts, before
    the push (a crash after this point does not repeat the round). One statement, of the
    columns that changed; none when nothing did."""
    row = p.basis.cursor if p.basis is not None else None
    values = {"cursor": final, "synced_version": start.version, "window_start": start.window.start}
    changed = {
        name: value for name, value in values.items() if row is None or getattr(row, name) != value
    }
    if not changed:
        return
    async with p.sessionmaker() as session, session.begin():
        await session.execute(
            update(SyncCursor)
            .where(SyncCursor.connection_id == p.connection_id, SyncCursor.firm_id == p.firm_id)
            .values(**changed)
        )


async def change_round(p: Pass, cursor: str | None, window: pb.SyncWindow) -> str | None:
    """One change round; returns the new cursor. A full round also settles linked events
    that the listing no longer shows (verified one by one, never inferred)."""
    full = cursor is None
    seen: set[str] = set()
    final: str | None = None
    listed = 0

    async def linked_ids() -> tuple[Container[str], Container[str]]:
        # Read only if the provider asks (Graph, for a page that lists anything), before
        # that page is applied: the ids as the pass found them.
        async with p.sessionmaker() as session:
            return await (await p.context(session)).links.remote_ids()

    rounds = p.provider.changes(p.calendar_id, cursor, window if full else None, linked=linked_ids)
    async for page in rounds:
        seen.update(remote.id for remote in page.events)
        await _apply_page(p, page, window)
        listed += len(page.events)
        p.progress("pull", listed, None)
        if page.cursor is not None:
            final = page.cursor
    if full:
        async with p.sessionmaker() as session:
            links = (await p.context(session)).links
            missing = await links.live_remote_ids() - seen
            linked = await links.live_count()
        if listed == 0 and linked > 0:
            await review_and_commit(p, linked, listed=0)
        for remote_id in sorted(missing):
            await _remote_removed(p, remote_id)
    return final


async def _apply_page(p: Pass, page: pb.ChangePage, window: pb.SyncWindow) -> None:
    """Apply one page in one session: its links and entry rows are loaded in a few
    queries, its host-side effects are committed as ``pass_context`` says (a crash loses
    the page, which the rerun applies again: the cursor is only saved after the round)."""
    async with p.sessionmaker() as session:
        p.page = session
        try:
            ctx = await p.context(session)
            owners = [e.series_id or e.id for e in page.events] + list(page.removed)
            found = await ctx.links.prefetch(owners)
            await ctx.view.prefetch((link.entry_kind, link.entry_id) for link in found)
            await occurrence_news(p, session, page, window)
            # Masters before their occurrences, so an occurrence finds its series linked.
            ordered = sorted(page.events, key=lambda e: e.series_id is not None)
            for done, remote in enumerate(ordered, start=1):
                await _remote_item(p, remote)
                await p.commit_page_progress(session, done)
            for removed_id in page.removed:
                known = await ctx.links.by_remote(removed_id)
                if known is None or known.tombstoned_at is not None:
                    # Never linked, or already settled as gone (the echo of our own
                    # delete): a removal says nothing new.
                    continue
                if p.provider.capabilities.removals_reliable:
                    await settle_remote_and_commit(p, removed_id, None)  # the feed's word is final
                else:
                    await _remote_removed(p, removed_id)
            if p.provider.capabilities.occurrences_listed:
                await absences_and_commit(p, page, window, full=page.full)
            await p.commit_page(session)
        finally:
            p.page = None
            p.moved.clear()
            p.absences_read.clear()
            # The page's rows (kept in ``session.info``, whose context refers back to the
            # session) are freed now rather than by a later garbage collection: a long
            # listing does not pile up pages of rows.
            session.info.clear()


async def _remote_removed(p: Pass, remote_id: str) -> None:
    """``remote_id`` seems gone (a feed that also reports events leaving the window, or a
    full listing that did not show it): confirm by reading it."""
    try:
        remote = await p.provider.get_event(p.calendar_id, remote_id)
    except (NotFound, Gone):
        await settle_remote_and_commit(p, remote_id, None)
        return
    await _remote_item(p, remote)


async def _remote_item(p: Pass, remote: pb.RemoteEvent) -> None:
    if remote.problem is not None:
        p.count(Direction.IN, "unknown", Tally.SKIPPED)
        log.warning("remote event skipped", remote_id=remote.id, problem=remote.problem)
        return
    if remote.series_id is not None:
        await _occurrence(p, remote)
        return
    p.masters_seen.add(remote.id)  # read now: its occurrences need not read it again
    p.keep_master(remote)
    await settle_remote_and_commit(p, remote.id, remote)


async def _occurrence(p: Pass, remote: pb.RemoteEvent) -> None:
    """An occurrence of a series. Graph's delta lists occurrences, not the master: the first
    one of an unknown series brings the master in (once per pass). A cancelled occurrence
    becomes an EXDATE of the host appointment, a moved or edited one an override. Graph
    reports an edit of a series as changed occurrences, so the master of any series seen
    this way is read again, once per pass."""
    series_id = remote.series_id or ""
    if series_id not in p.masters_seen:
        p.masters_seen.add(series_id)
        series = await master(p, series_id)
        if series is None:
            return
        if series.series_id is None:
            await _remote_item(p, series)
    async with p.session() as session:
        await occurrence_in(p, session, remote)
        await p.commit_settled(session)


async def settle_remote_and_commit(p: Pass, remote_id: str, remote: pb.RemoteEvent | None) -> None:
    """Plan the pair of a remote event (or of its deletion) and carry the plan out; a
    write that finds the remote other than planned is planned again, here, until settled."""
    replan: Replan | None = Replan(remote_id, remote)
    while replan is not None:
        replan = await _settle_remote_once(p, replan.remote_id, replan.remote)


async def _settle_remote_once(
    p: Pass, remote_id: str, remote: pb.RemoteEvent | None
) -> Replan | None:
    async with p.session() as session:
        ctx = await p.context(session)
        connection, view, links = ctx.connection, ctx.view, ctx.links
        link = await links.by_remote(remote_id)
        tag = remote.tag if remote is not None else None
        if tag is not None and tag.connection_id != connection.id:
            p.count(Direction.IN, tag.kind, Tally.FOREIGN_TAG_SKIPPED)
            return None
        if link is None and tag is not None:
            link = await links.by_entry(tag.kind, tag.entry_id)
        if link is None and remote is None:
            return None  # a deletion of something we never knew: nothing to do
        kind = link.entry_kind if link is not None else (tag.kind if tag else None)
        entry_id = link.entry_id if link is not None else (tag.entry_id if tag else None)
        row = await view.load(kind, entry_id) if kind and entry_id else None
        item = await view.item(row)
        side = remote_side(remote, connection.id)
        action = plan(link_state(link), item.side if item else None, side, ctx.policy)
        if action.op is Op.NOTHING:
            return None
        if action.deletes:
            p.deferred.append(
                Deferred(action, remote, side, link.id if link else None,
                         kind or EntryKind.APPOINTMENT, entry_id or uuid.uuid4())
            )  # fmt: skip
            return None
        return await perform_and_commit(p, session, action, link, row, item, remote, kind, entry_id)
