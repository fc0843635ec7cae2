"""Single occurrences of series already linked, as the remote reports them: cancelled ones
(and, on Graph, those a listing leaves out) become EXDATEs of the host appointment, changed
ones overrides, a change both sides made a conflict of that occurrence. Applied within the
page being pulled (see ``pass_context`` for when it commits)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import overrides
from casecal.domain.event import Override
from casecal.domain.mapping import occurrence_change
from casecal.domain.occurrences import absent_occurrences
from casecal.domain.plan import Side
from casecal.domain.recurrence import EventTime
from casecal.domain.series_decisions import (
    News,
    cancellation_news,
    cancelled_on_host,
    incoming_change,
)
from casecal.providers import base as pb
from casecal.providers.errors import Gone, NotFound
from casecal.store.tables import Appointment, EntryKind, Link, utcnow
from casecal.sync.outcomes import Direction, Tally
from casecal.sync.pass_context import Pass
from casecal.sync.records import occurrence_conflict


async def occurrence_news(
    p: Pass, session: AsyncSession, page: pb.ChangePage, window: pb.SyncWindow
) -> None:
    """What a page says of single occurrences of series linked already (cancelled or
    changed ones, and on Graph those it leaves out) goes to the host before any series of
    the page is settled: a series the host changed is written back whole while the page is
    applied, and that write must carry them (on Graph it brings cancelled occurrences back
    and drops exceptions). Absences are read against the series as the remote has it (its
    master, read now rather than later in the page: no extra request), never against a
    host change not yet sent. Applying it all again after the page's masters changes
    nothing."""
    for remote in page.events:
        if remote.series_id is None:
            p.keep_master(remote)
    if p.provider.capabilities.occurrences_listed:
        links = (await p.context(session)).links
        for series_id in dict.fromkeys(e.series_id for e in page.events if e.series_id):
            if series_id not in p.masters and await links.by_remote(series_id):
                await master(p, series_id)
    for remote in page.events:
        if remote.series_id is not None:
            await occurrence_in(p, session, remote)
    if p.provider.capabilities.occurrences_listed:
        await absences_and_commit(p, page, window, full=page.full)


async def master(p: Pass, series_id: str) -> pb.RemoteEvent | None:
    """The master of ``series_id`` as read this pass, read now if it was not."""
    if series_id not in p.masters:
        try:
            p.masters[series_id] = await p.provider.get_event(p.calendar_id, series_id)
        except (NotFound, Gone):
            return None
    return p.masters[series_id]


async def occurrence_in(p: Pass, session: AsyncSession, remote: pb.RemoteEvent) -> None:
    """One occurrence item of a series: its cancellation or its own change, to the host."""
    if remote.plain_occurrence:
        return  # a plain Graph occurrence: nothing of its own beyond its series
    links = (await p.context(session)).links
    link = await links.by_remote(remote.series_id or "")
    if link is None or link.entry_kind is not EntryKind.APPOINTMENT:
        return
    if remote.original_start is None:
        return
    if remote.cancelled:
        await _cancel_in(p, session, link.remote_id, [remote.original_start])
    elif remote.event is not None:
        override = Override(remote.original_start, remote.event)
        await _override_in(p, session, link, override, remote.modified_at or utcnow())


async def _override_in(
    p: Pass, session: AsyncSession, link: Link, override: Override, modified: datetime
) -> None:
    """One occurrence of a linked series changed on its own remotely. The link keeps each
    changed occurrence as last synced (``Link.occurrences``), so our own write coming back
    is recognised and changes nothing; otherwise the host keeps it as an override of that
    occurrence, unless the host changed the same occurrence since: a conflict of that
    occurrence, decided by the firm's policy, the other version kept as a record."""
    ctx = await p.context(session)
    connection, policy, view = ctx.connection, ctx.policy, ctx.view
    row = await view.load(link.entry_kind, link.entry_id)
    if not isinstance(row, Appointment) or row.deleted_at is not None or not row.rrule:
        return
    # Only an imported private series hides its details; the host's own keeps them.
    hidden = override.event.private and not connection.import_private_details
    hidden = hidden and row.origin == "remote"
    change = overrides.to_stored(occurrence_change(override, tz=row.time_zone, hidden=hidden))
    decision = incoming_change(
        change, link.occurrences or {}, row.overrides, conflicts=policy.conflicts,
        host_time=row.updated_at, remote_time=modified,
    )  # fmt: skip
    if decision.news is News.ECHO:
        return  # the remote holds what was last synced: our own write, or nothing new
    before = await view.item(row)
    if before is None:
        return
    link.occurrences = decision.synced
    if decision.news.conflict:
        held = (
            decision.held
            if decision.held is not None
            else {"original_start": change["original_start"]}
        )
        won = Side.HOST if decision.news is News.CONFLICT_HOST_WINS else Side.REMOTE
        session.add(occurrence_conflict(connection, row, won, held, change))
        p.count(Direction.IN, "appointment", Tally.CONFLICT)
    if not decision.news.takes:
        return  # the same change on both sides, or the host's version wins (pushed next)
    row.overrides = decision.overrides
    p.count(Direction.IN, "appointment", Tally.OCCURRENCE_CHANGED)
    after = await view.item(row)
    if after is not None and before.side.fingerprint == link.host_fingerprint:
        # The remote already holds this occurrence as it is now: the link's host side
        # moves with it, so the push does not write the series back.
        await p.move_host_side(session, link, row, after.side.fingerprint)


async def absences_and_commit(
    p: Pass, page: pb.ChangePage, window: pb.SyncWindow, *, full: bool
) -> None:
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
        if series_id in p.absences_read:
            continue  # read already in this page (before its series were settled)
        missing = await _missing(p, series_id, slots, window)
        if missing is None:
            continue  # not linked, or not readable yet: read again after the masters
        p.absences_read.add(series_id)
        if missing and not full:
            await p.commit_before_remote_read()
            live = await p.provider.series_occurrences(p.calendar_id, series_id, window)
            missing = await _missing(p, series_id, [*slots, *live], window) or []
        if missing:
            async with p.session() as session:
                await _cancel_in(p, session, series_id, missing)
                await p.commit_settled(session)


async def _missing(
    p: Pass, series_id: str, slots: list[EventTime], window: pb.SyncWindow
) -> list[EventTime] | None:
    """The occurrences of the linked series ``series_id`` that ``slots`` leave out, or
    None when there is nothing to read them against (yet)."""
    async with p.session() as session:
        ctx = await p.context(session)
        link = await ctx.links.by_remote(series_id)
        if link is None or link.tombstoned_at is not None:
            return None
        item = await ctx.view.item(await ctx.view.load(link.entry_kind, link.entry_id))
        if item is None or not isinstance(item.row, Appointment):
            return None
        series = item.event
        remote_master = p.masters.get(series_id)
        if (
            remote_master is not None
            and remote_master.event is not None
            and remote_master.event.recurrence
        ):
            # The rule and start the remote expanded, with the host's known cancellations.
            known = series.recurrence.exdates if series.recurrence else ()
            rec = replace(remote_master.event.recurrence, exdates=known)
            series = replace(remote_master.event, recurrence=rec, overrides=())
        elif item.side.fingerprint != link.host_fingerprint:
            return None  # the host's own rule may differ from the remote's: read it later
        return absent_occurrences(series, slots, window.start, window.end)


async def _cancel_in(
    p: Pass, session: AsyncSession, series_id: str, missing: list[EventTime]
) -> None:
    ctx = await p.context(session)
    view = ctx.view
    link = await ctx.links.by_remote(series_id)
    assert link is not None
    row = await view.load(link.entry_kind, link.entry_id)
    synced = link.occurrences or {}
    news = cancellation_news(missing, synced)  # an echo of a known cancellation is none
    if not news or not isinstance(row, Appointment):
        return
    before = await view.item(row)
    if before is None:
        return
    outcome = cancelled_on_host(news, row.exdates, row.overrides, synced)
    link.occurrences = outcome.synced
    row.exdates = outcome.exdates
    if not outcome.added:
        return
    row.overrides = outcome.overrides
    p.count(Direction.IN, "appointment", Tally.OCCURRENCE_CANCELLED, outcome.added)
    after = await view.item(row)
    if after is not None and before.side.fingerprint == link.host_fingerprint:
        # The remote already holds these cancellations: the link's host side moves
        # with them, so the push does not send the series back.
        await p.move_host_side(session, link, row, after.side.fingerprint)
