"""The push phase: every host entry with pending outbox rows (and, on a first pass with an
upcoming backfill, every entry of the window not yet on the remote) planned against its
link (``domain.plan``). A plain remote create or update is handed back as a ``Write`` to go
out in a batch; anything else is performed at once. A write that finds the remote other
than planned answers a ``Replan``, which the engine's loop hands to the pull phase."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from casecal.domain.plan import Op, plan
from casecal.domain.window import Backfill
from casecal.providers import base as pb
from casecal.store.tables import EntryKind, OutboxRow
from casecal.sync.act import ack, perform_and_commit
from casecal.sync.links import link_state
from casecal.sync.pass_context import Deferred, Pass, Replan
from casecal.sync.sides import changed_of, linked_remote_side, sent_occurrences, tag_of, version_of
from casecal.sync.writes import Write, batchable


async def work(
    p: Pass, *, backfill: bool, replan: bool = False
) -> list[tuple[EntryKind, uuid.UUID]]:
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
        return list(queued)


async def settle_host_and_commit(
    p: Pass, kind: EntryKind, entry_id: uuid.UUID, *, collect: bool = False
) -> Write | Replan | None:
    """Plan one host entry and act on it. With ``collect``, a plain remote create or
    update is not performed but returned, to go out in a batch with others."""
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
            target = link.remote_id if link is not None else None
            changed = changed_of(link)
            tag = tag_of(item, connection)
            if action.effect is Op.CREATE_REMOTE or target is None:
                op: pb.WriteOp = pb.CreateOp(item.event, tag, changed)
            else:
                op = pb.UpdateOp(target, item.event, tag, action.if_match, changed)
            return Write(op, action, kind, entry_id, link.id if link else None,
                         item.side.fingerprint, item.row.version,
                         sent_occurrences(item))  # fmt: skip
        return await perform_and_commit(p, session, action, link, row, item, None, kind, entry_id)
