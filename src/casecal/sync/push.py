"""The push phase: every host entry with pending outbox rows (and, on a first pass with an
upcoming backfill, every entry of the window not yet on the remote) planned against its
link (``domain.plan``). ``work`` lists them as a ``Work``, whose read-ahead the engine's
loop draws from: a plain remote create or update is handed back as a ``Write`` to go out
in a batch; anything else is performed at once. A write that finds the remote other than
planned answers a ``Replan``, which the engine's loop hands to the pull phase."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from casecal.domain.plan import Action, Op, RemoteSide, plan
from casecal.domain.window import Backfill
from casecal.providers import base as pb
from casecal.store.tables import Connection, EntryKind, Link, OutboxRow
from casecal.sync.act import Ack, ack, ack_many, perform_and_commit
from casecal.sync.hostview import HostItem
from casecal.sync.links import link_state
from casecal.sync.pass_context import Deferred, Pass, Replan
from casecal.sync.sides import changed_of, linked_remote_side, sent_occurrences, tag_of, version_of
from casecal.sync.writes import Write, batchable


async def work(p: Pass, *, backfill: bool, replan: bool = False) -> Work:
    """The host entries to settle, in the order their changes were made. With ``replan``
    (the settings that shape the calendar changed since it was last planned), also every
    entry CaseCal shapes that is linked, or that the backfill would push: a kind switched off
    is removed, one switched on pushed, a new look (reminders, busy/free, privacy) updated,
    each through the plan and the mass-delete guard like any other change."""
    async with p.sessionmaker() as session:
        ctx = await p.context(session)
        connection = ctx.connection
        pending = await session.execute(
            select(OutboxRow.entry_kind, OutboxRow.entry_id)
            .where(
                OutboxRow.firm_id == p.firm_id,
                OutboxRow.user_id == connection.user_id,
                OutboxRow.processed_at.is_(None),
            )
            .order_by(OutboxRow.id)
        )
        queued = dict.fromkeys((k, e) for k, e in pending.all())
        if replan:
            queued.update(dict.fromkeys(await ctx.links.shaped_keys()))
        if (backfill or replan) and connection.backfill == Backfill.UPCOMING:
            window = p.window(connection, ctx.view.firm_tz)
            synced = await ctx.links.synced_versions()
            for kind, entry_id, version in await ctx.view.audience_keys(window.start):
                if replan and not backfill and kind is EntryKind.APPOINTMENT:
                    continue  # an appointment's event is its own, whatever the settings
                # An entry whose live link is of its current version is on the remote
                # already (this pass's pull just linked it): nothing to plan.
                if synced.get((kind, entry_id)) != version:
                    queued.setdefault((kind, entry_id))
        keys = list(queued)
    return Work(keys)


class Work:
    """The push's entries, in order (``keys``), and the read-ahead that plans them: the
    engine's loop hands them to ``settle_and_commit`` one at a time."""

    def __init__(self, keys: list[tuple[EntryKind, uuid.UUID]]) -> None:
        self.keys = keys
        self._ahead = _ReadAhead(keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[tuple[EntryKind, uuid.UUID]]:
        return iter(self.keys)

    async def settle_and_commit(
        self, p: Pass, kind: EntryKind, entry_id: uuid.UUID
    ) -> Write | Replan | None:
        """Plan one entry of the work and act on it; a plain remote create or update is not
        performed but returned, to go out in a batch with others.

        The entry is planned from the read-ahead (``_ReadAhead``): its link and row were
        read with the next ``READ_AHEAD`` entries', and those that needed nothing were
        acknowledged then, together. Only an entry whose plan is neither nothing, a
        deletion nor a batchable write is read again, in a session of its own, and
        performed as it always was (``settle_host_and_commit``'s single path)."""
        planned = await self._ahead.take(p, (kind, entry_id))
        if planned is not None:
            step = _collected(p, planned, kind, entry_id)
            if not isinstance(step, _Single):
                return step
        return await _settle_one(p, kind, entry_id, collect=True)


async def settle_host_and_commit(p: Pass, kind: EntryKind, entry_id: uuid.UUID) -> Replan | None:
    """Plan one host entry, read afresh in a session of its own, and act on it (a retry or
    a re-plan of an entry the push took already)."""
    step = await _settle_one(p, kind, entry_id, collect=False)
    assert not isinstance(step, Write)  # only collected writes are held
    return step


async def _settle_one(
    p: Pass, kind: EntryKind, entry_id: uuid.UUID, *, collect: bool
) -> Write | Replan | None:
    """The single path: one entry read, planned and acted on in a session of its own."""
    async with p.sessionmaker() as session:
        ctx = await p.context(session)
        connection = ctx.connection
        link = await ctx.links.by_entry(kind, entry_id)
        row = await ctx.view.load(kind, entry_id)
        item = await ctx.view.item(row)
        remote_side = linked_remote_side(link)
        action = plan(link_state(link), item.side if item else None, remote_side, ctx.policy)
        if action.op is Op.NOTHING:
            await ack(p, session, connection, kind, entry_id, version_of(row))
            await session.commit()
            return None
        if action.deletes:
            link_id = link.id if link else None
            p.deferred.append(Deferred(action, None, remote_side, link_id, kind, entry_id))
            return None
        if collect and item is not None and batchable(action):
            return _write(connection, action, link, item, kind, entry_id)
        return await perform_and_commit(p, session, action, link, row, item, None, kind, entry_id)


def _write(
    connection: Connection,
    action: Action,
    link: Link | None,
    item: HostItem,
    kind: EntryKind,
    entry_id: uuid.UUID,
) -> Write:
    """A planned plain remote create or update, held for a batch."""
    target = link.remote_id if link is not None else None
    changed = changed_of(link)
    tag = tag_of(item, connection)
    if action.effect is Op.CREATE_REMOTE or target is None:
        op: pb.WriteOp = pb.CreateOp(item.event, tag, changed)
    else:
        op = pb.UpdateOp(target, item.event, tag, action.if_match, changed)
    return Write(op, action, kind, entry_id, link.id if link else None,
                 item.side.fingerprint, item.row.version, sent_occurrences(item))  # fmt: skip


# --- the read-ahead: the push's entries read, planned and (when nothing is to do)
# acknowledged a window at a time -----------------------------------------------------

READ_AHEAD = 200
"""Entries of the push's work read together (links, rows and cases: a query each)."""


@dataclass(frozen=True, slots=True)
class _Planned:
    """One entry as read ahead and planned: what its ``Write`` or deferred deletion needs."""

    connection: Connection
    action: Action
    link: Link | None
    item: HostItem | None
    remote_side: RemoteSide | None


@dataclass(frozen=True, slots=True)
class _Single:
    """The entry needs the single path (read again and performed in its own session)."""


def _collected(
    p: Pass, planned: _Planned, kind: EntryKind, entry_id: uuid.UUID
) -> Write | _Single | None:
    action, link, item = planned.action, planned.link, planned.item
    if action.op is Op.NOTHING:
        return None  # acknowledged when read
    if action.deletes:
        link_id = link.id if link else None
        p.deferred.append(Deferred(action, None, planned.remote_side, link_id, kind, entry_id))
        return None
    if item is not None and batchable(action):
        return _write(planned.connection, action, link, item, kind, entry_id)
    return _Single()


class _ReadAhead:
    """The push's work list, read ``READ_AHEAD`` entries at a time: their links and rows
    (one query each per kind), their cases, each planned against its link; those planned
    ``nothing`` acknowledged at once, in one statement and one commit. A crash after that
    commit lost nothing (a rerun plans them again and finds nothing to do); one before it
    leaves their rows pending, planned again next pass.

    The entries are read up to a window before their writes go out, as before they were
    read up to a batch before: an entry changed since is written as read, its link records
    the version read, and the newer version's outbox row stays pending (``ack`` acknowledges
    up to the version acted on). Within the pass, nothing else writes these entries' links:
    a follow-up (a retry, a re-plan) concerns an entry already taken from here, and goes
    through the single path, which reads afresh."""

    def __init__(self, keys: list[tuple[EntryKind, uuid.UUID]]) -> None:
        self.keys = keys
        self.index = {key: i for i, key in enumerate(keys)}
        self.read_to = 0
        """Entries before this index were read (taken or still held)."""
        self.planned: dict[tuple[EntryKind, uuid.UUID], _Planned] = {}

    async def take(self, p: Pass, key: tuple[EntryKind, uuid.UUID]) -> _Planned | None:
        """The entry as read ahead (reading the window from it on when it is not read
        yet); None when it is not of this work, or was taken already."""
        at = self.index.get(key)
        if at is None:
            return None
        if at >= self.read_to:
            self.planned.clear()  # the entries skipped over, if any, take the single path
            await self._read_and_commit(p, at)
        return self.planned.pop(key, None)

    async def _read_and_commit(self, p: Pass, at: int) -> None:
        keys = self.keys[at : at + READ_AHEAD]
        self.read_to = at + len(keys)
        nothing: list[Ack] = []
        async with p.sessionmaker() as session:
            ctx = await p.context(session)
            links = await ctx.links.by_entries(keys)
            rows = await ctx.view.prefetch(keys)
            await ctx.view.prefetch_cases(rows.values())
            for key in keys:
                link, row = links.get(key), rows.get(key)
                item = await ctx.view.item(row)
                remote_side = linked_remote_side(link)
                side = item.side if item else None
                action = plan(link_state(link), side, remote_side, ctx.policy)
                if action.op is Op.NOTHING:
                    nothing.append((key[0], key[1], version_of(row)))
                planned = _Planned(ctx.connection, action, link, item, remote_side)
                self.planned[key] = planned
            if nothing:
                await ack_many(p, session, ctx.connection, nothing)
                await session.commit()
