"""Remote writes held to go out together: plain creates and updates the push collected, and
deletions of linked events the guard let through. Sent one by one when there are few,
else through the provider's batch endpoint; each answer is settled like a single write.
What a batch could not settle (a failed write, a create that found other content) comes
back as a value for the engine's loop to retry or re-plan: this module calls no phase."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from casecal.domain.plan import Action, Op
from casecal.providers import base as pb
from casecal.providers.errors import Gone, NotFound, ProviderError
from casecal.store.tables import EntryKind
from casecal.sync.act import Ack, ack_many
from casecal.sync.links import SettledLink
from casecal.sync.outcomes import Direction, Tally
from casecal.sync.pass_context import Pass, Replan
from casecal.sync.sides import fingerprint_of

BATCH_FROM = 3
"""Collected writes go through the batch endpoint from this many on; fewer go one by one."""


@dataclass(frozen=True, slots=True)
class Write:
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
class Delete:
    """A planned remote deletion of a linked event, held to go out with the others."""

    link_id: uuid.UUID
    remote_id: str
    etag: str | None
    kind: EntryKind
    entry_id: uuid.UUID
    version: int | None


@dataclass(frozen=True, slots=True)
class Retry:
    """A held write that did not land: the host entry goes through the single path again
    (re-planned, and its error handled or raised there)."""

    kind: EntryKind
    entry_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """What a batch left to do: the pairs to re-plan and the writes to retry (in this
    order), and each deletion's error (None when it landed)."""

    follow: list[Replan | Retry] = field(default_factory=list)
    deleted: list[ProviderError | None] = field(default_factory=list)


def batchable(action: Action) -> bool:
    """A plain remote create or update (no conflict record to store first)."""
    return action.conflict is None and action.effect in (Op.CREATE_REMOTE, Op.UPDATE_REMOTE)


def batched(writes: Sequence[Write], deletes: Sequence[Delete]) -> bool:
    """Whether these go through the batch endpoint (else one at a time)."""
    return len(writes) + len(deletes) >= BATCH_FROM


async def send_batch_and_commit(
    p: Pass, writes: Sequence[Write], deletes: Sequence[Delete]
) -> BatchAnswer:
    """Send writes and deletions in the provider's batch endpoint; the writes that landed
    are saved (links and acknowledgements) in one transaction. The deletions are settled
    by ``settle_deletes_and_commit`` once the follow-ups are done."""
    ops = [write.op for write in writes] + [pb.DeleteOp(d.remote_id, d.etag) for d in deletes]
    results = await p.provider.write_batch(p.calendar_id, ops)
    written, deleted = results[: len(writes)], results[len(writes) :]
    outcomes = [r if isinstance(r, ProviderError) else None for r in deleted]
    try:
        follow = await _settle_writes_and_commit(p, writes, written)
    except BaseException:
        # The deletions landed whatever settling the writes raises: record them as done.
        await settle_deletes_and_commit(p, deletes, outcomes)
        raise
    return BatchAnswer(follow, outcomes)


async def _settle_writes_and_commit(
    p: Pass, writes: Sequence[Write], results: Sequence[pb.WriteResult | ProviderError]
) -> list[Replan | Retry]:
    """Save the links and acknowledgements of the writes that landed, all in one
    transaction and a few statements (one INSERT of the new links, one UPDATE of the
    others, one of the outbox rows)."""
    if not writes:
        return []
    retry: list[Replan | Retry] = []
    replan: list[Replan | Retry] = []
    settled: list[SettledLink] = []
    acks: list[Ack] = []
    tallies: list[tuple[EntryKind, Tally]] = []
    for write, result in zip(writes, results, strict=True):
        if isinstance(result, ProviderError):
            retry.append(Retry(write.kind, write.entry_id))
            continue
        landed = fingerprint_of(result)
        if result.reused and landed not in (None, write.fingerprint):
            assert result.remote is not None
            # An earlier event of ours, other content.
            replan.append(Replan(result.remote.id, result.remote))
            continue
        settled.append(
            SettledLink(
                link_id=write.link_id, kind=write.kind, entry_id=write.entry_id,
                remote_id=result.id, etag=result.etag, host_fingerprint=write.fingerprint,
                remote_fingerprint=landed or write.fingerprint, host_version=write.version,
                occurrences=write.occurrences,
            )
        )  # fmt: skip
        acks.append((write.kind, write.entry_id, write.version))
        restore = write.action.op in (Op.RESTORE_OVERWRITE, Op.RESTORE_RECREATE)
        verb = Tally.CREATE if isinstance(write.op, pb.CreateOp) else Tally.UPDATE
        tallies.append((write.kind, Tally.RESTORE if restore else verb))
    if settled:
        async with p.sessionmaker() as session:
            ctx = await p.context(session)
            await ctx.links.save_many(settled)
            await ack_many(p, session, ctx.connection, acks)
            await session.commit()
    for kind, tally in tallies:
        p.count(Direction.OUT, kind, tally)
    return replan + retry


async def delete_each(p: Pass, deletes: Sequence[Delete]) -> list[ProviderError | None]:
    """Send deletions one at a time; each one's error, None when it landed."""
    outcomes: list[ProviderError | None] = []
    for d in deletes:
        try:
            await p.provider.delete_event(p.calendar_id, d.remote_id, etag=d.etag)
        except ProviderError as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


async def settle_deletes_and_commit(
    p: Pass, deletes: Sequence[Delete], outcomes: Sequence[ProviderError | None]
) -> None:
    """An event already gone counts as deleted. The links of the deletions that landed
    are tombstoned together; the first other failure is raised after that (the next pass
    reads the event again and re-plans)."""
    if not deletes:
        return
    failure: ProviderError | None = None
    landed: list[Delete] = []
    for d, error in zip(deletes, outcomes, strict=True):
        if error is not None and not isinstance(error, NotFound | Gone):
            failure = failure or error
            continue
        landed.append(d)
    if landed:
        async with p.sessionmaker() as session:
            ctx = await p.context(session)
            await ctx.links.tombstone_many([d.link_id for d in landed])
            acks = [(d.kind, d.entry_id, d.version) for d in landed]
            await ack_many(p, session, ctx.connection, acks)
            await session.commit()
        for d in landed:
            p.count(Direction.OUT, d.kind, Tally.DELETE)
    if failure is not None:
        raise failure
