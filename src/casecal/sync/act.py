"""Performing one planned action: the only code that carries out what ``domain.plan``
decides for a pair (write or delete on the remote, write or delete on the host, adopt,
forget), with its conflict record and the acknowledgement of the entry's outbox rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from typing import cast

from sqlalchemy import Table, case, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.plan import Action, Op
from casecal.providers import base as pb
from casecal.providers.errors import Gone, NotFound, PreconditionFailed
from casecal.store.tables import Connection, EntryKind, Link, OutboxRow, utcnow
from casecal.sync.host_writes import write_host
from casecal.sync.hostview import EntryRow, HostItem
from casecal.sync.outcomes import Direction, Tally
from casecal.sync.pass_context import Pass, PassContext, Replan
from casecal.sync.records import conflict_record
from casecal.sync.sides import changed_of, fingerprint_of, sent_occurrences, tag_of, version_of


async def ack(
    p: Pass,
    session: AsyncSession,
    connection: Connection,
    kind: EntryKind,
    entry_id: uuid.UUID,
    version: int | None,
) -> None:
    """Acknowledge the entry's pending rows up to the version this pass acted on; a row of
    a newer edit (saved while the pass ran) stays pending for the next pass."""
    query = update(OutboxRow).where(
        OutboxRow.firm_id == p.firm_id,
        OutboxRow.user_id == connection.user_id,
        OutboxRow.entry_kind == kind,
        OutboxRow.entry_id == entry_id,
        OutboxRow.processed_at.is_(None),
    )
    if version is not None:
        query = query.where(OutboxRow.entry_version <= version)
    await session.execute(query.values(processed_at=utcnow()))


Ack = tuple[EntryKind, uuid.UUID, int | None]
"""An entry whose pending rows to acknowledge, up to the version acted on (None: all)."""

ACK_CHUNK = 200
"""Entries per acknowledging UPDATE (each names its id twice: well under the limits)."""


async def ack_many(
    p: Pass, session: AsyncSession, connection: Connection, acks: Sequence[Ack]
) -> None:
    """``ack`` for many entries in one UPDATE per kind (and ``ACK_CHUNK`` entries): each
    entry's rows up to its own version (a ``CASE`` on the entry id), all of them for an
    entry acted on without a version."""
    by_kind: dict[EntryKind, dict[uuid.UUID, int | None]] = {}
    for kind, entry_id, version in acks:
        by_kind.setdefault(kind, {})[entry_id] = version
    now = utcnow()
    outbox = cast(Table, OutboxRow.__table__)
    for kind, versions in by_kind.items():
        ids = list(versions)
        for start in range(0, len(ids), ACK_CHUNK):
            chunk = ids[start : start + ACK_CHUNK]
            whens = [
                (outbox.c.entry_id == e, versions[e]) for e in chunk if versions[e] is not None
            ]
            query = update(outbox).where(
                outbox.c.firm_id == p.firm_id,
                outbox.c.user_id == connection.user_id,
                outbox.c.entry_kind == kind,
                outbox.c.entry_id.in_(chunk),
                outbox.c.processed_at.is_(None),
            )
            if whens:
                unbounded = [e for e in chunk if versions[e] is None]
                bounded = outbox.c.entry_version <= case(*whens, else_=None)
                query = query.where(
                    or_(outbox.c.entry_id.in_(unbounded), bounded) if unbounded else bounded
                )
            # A Core statement (the table's, not the mapped class's): no ORM state to keep in
            # step, no compile plugin (the sessions a pass acknowledges in hold no outbox rows).
            await session.execute(query.values(processed_at=now))


async def perform_and_commit(
    p: Pass,
    session: AsyncSession,
    action: Action,
    link: Link | None,
    row: EntryRow | None,
    item: HostItem | None,
    remote: pb.RemoteEvent | None,
    kind: EntryKind | None,
    entry_id: uuid.UUID | None,
) -> Replan | None:
    """Carry out ``action`` on the pair and commit it (within a page: as the page says).
    Answers a ``Replan`` when a remote write found the remote other than planned (a 412, or
    a create that found an earlier event of ours holding other content): nothing of the
    pair was saved, and the caller settles it again against what the remote holds now."""
    ctx = await p.context(session)
    connection, view, links = ctx.connection, ctx.view, ctx.links
    seen_version = version_of(row)  # before any write of ours can bump it
    if action.writes_remote:
        await p.commit_before_remote_write(session)
    if action.conflict is not None:
        session.add(conflict_record(connection, action, item, remote, link, kind, entry_id))
        await session.commit()
        p.count(Direction.IN, str(kind), Tally.CONFLICT)
    effect = action.effect
    if effect in (Op.CREATE_REMOTE, Op.UPDATE_REMOTE):
        assert item is not None
        replan = await _write_remote(p, session, ctx, link, item, remote, effect, action)
        if replan is not None:
            return replan  # rolled back: the pair is settled again against the remote
    elif effect is Op.DELETE_REMOTE:
        # A tagged event whose link was lost (crash before the link save) has no link.
        target = link.remote_id if link is not None else (remote.id if remote else None)
        if target is not None:
            with suppress(NotFound, Gone):  # already gone: the goal is reached
                await p.provider.delete_event(p.calendar_id, target, etag=action.if_match)
            p.count(Direction.OUT, str(kind or (link.entry_kind if link else "")), Tally.DELETE)
        if link is not None:
            link.tombstoned_at = utcnow()
    elif effect in (Op.CREATE_HOST, Op.UPDATE_HOST):
        assert remote is not None
        assert remote.event is not None
        await write_host(p, view, links, link, row, remote, connection, effect)
    elif effect is Op.DELETE_HOST:
        assert link is not None
        if row is not None:
            view.delete_entry(row)
        link.tombstoned_at = utcnow()
        p.count(Direction.IN, link.entry_kind, Tally.DELETE)
    elif effect in (Op.ADOPT,):
        assert item is not None
        assert remote is not None
        assert remote.event is not None
        links.save(
            link, kind=item.row.kind, entry_id=item.row.id, remote_id=remote.id,
            etag=remote.etag, host_fingerprint=item.side.fingerprint,
            remote_fingerprint=remote.event.fingerprint(), host_version=item.row.version,
        )  # fmt: skip
        p.count(Direction.IN, item.row.kind, Tally.ADOPT)
    elif effect in (Op.FORGET, Op.ACCEPT_REMOTE_DELETE) and link is not None:
        link.tombstoned_at = utcnow()
        link.remote_delete_respected = effect is Op.ACCEPT_REMOTE_DELETE
    if kind is not None and entry_id is not None:
        await ack(p, session, connection, kind, entry_id, seen_version)
    if action.writes_remote:
        await session.commit()  # the remote write is done: its link is durable now (I3)
    else:
        await p.commit_settled(session)
    return None


async def _write_remote(
    p: Pass,
    session: AsyncSession,
    ctx: PassContext,
    link: Link | None,
    item: HostItem,
    remote: pb.RemoteEvent | None,
    effect: Op,
    action: Action,
) -> Replan | None:
    """Write the host values out; a ``Replan`` (after a rollback) when the pair must be
    planned again (a 412, or a create that found an earlier event of ours holding other
    content)."""
    tag = tag_of(item, ctx.connection)
    restore = action.op in (Op.RESTORE_OVERWRITE, Op.RESTORE_RECREATE)
    # An update targets the event the plan looked at: the linked one, or (no link yet) the
    # tagged event the listing showed. Only a planned create ever creates.
    target = link.remote_id if link is not None else (remote.id if remote else None)
    changed = changed_of(link)
    provider, calendar_id = p.provider, p.calendar_id
    if effect is Op.CREATE_REMOTE or target is None:
        result = await provider.create_event(calendar_id, item.event, tag, changed=changed)
        if result.reused and fingerprint_of(result) not in (None, item.side.fingerprint):
            # The create is idempotent per (connection, entry), so it found the event an
            # earlier create made, and that event holds other content (an edit since, or
            # an older version of the entry). Recording it as synced would leave both
            # sides apart for good: plan the pair again against what is there.
            await p.rollback(session)
            assert result.remote is not None
            return Replan(result.id, result.remote)
        p.count(Direction.OUT, item.row.kind, Tally.RESTORE if restore else Tally.CREATE)
    else:
        try:
            result = await provider.update_event(
                calendar_id, target, item.event, tag, etag=action.if_match, changed=changed
            )
        except PreconditionFailed:
            # Someone edited it since our read: re-read and re-plan with the fresh version
            # (never retry blindly with a stale etag).
            fresh = await provider.get_event(calendar_id, target)
            await p.rollback(session)
            return Replan(fresh.id, fresh)
        except (NotFound, Gone):
            result = await provider.create_event(calendar_id, item.event, tag, changed=changed)
        p.count(Direction.OUT, item.row.kind, Tally.RESTORE if restore else Tally.UPDATE)
    remote_fp = (
        result.remote.event.fingerprint()
        if result.remote is not None and result.remote.event is not None
        else item.side.fingerprint
    )
    ctx.links.save(
        link, kind=item.row.kind, entry_id=item.row.id, remote_id=result.id,
        etag=result.etag, host_fingerprint=item.side.fingerprint,
        remote_fingerprint=remote_fp, host_version=item.row.version,
        occurrences=sent_occurrences(item),
    )  # fmt: skip
    return None
