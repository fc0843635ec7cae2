"""The mass-delete guard of a pass: deletions planned in a phase are held
(``Pass.deferred``) until the guard (``domain.guard.review``) has seen them all; the ones it
lets through are planned again (an edit made meanwhile wins over a deletion planned before
it) and handed back, to go out with the phase's other remote writes."""

from __future__ import annotations

from sqlalchemy import update

from casecal.domain.guard import Verdict
from casecal.domain.guard import review as guard_review
from casecal.domain.plan import Op, plan
from casecal.store.tables import Connection, Link
from casecal.sync.act import ack, perform_and_commit
from casecal.sync.links import link_state
from casecal.sync.pass_context import Deferred, Pass, Replan
from casecal.sync.sides import version_of
from casecal.sync.writes import Delete


class DeletionsPaused(Exception):
    """The mass-delete guard tripped; the pass stops and waits for a confirmation."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


async def review_deferred_and_commit(p: Pass) -> None:
    """Let the guard see the deletions this phase planned (nothing to see: no read)."""
    if not p.deferred:
        return
    async with p.sessionmaker() as session:
        linked = await (await p.context(session)).links.live_count()
    await review_and_commit(p, linked)


async def review_and_commit(p: Pass, linked: int, *, listed: int | None = None) -> None:
    """Raise ``DeletionsPaused`` (dropping the planned deletions) when the guard trips; a
    confirmation the deletions used up is reset (committed)."""
    async with p.sessionmaker() as session:
        connection = await session.get(Connection, p.connection_id)
        assert connection is not None
        confirmed = connection.confirmed_deletions
    verdict = guard_review(
        linked, len(p.deferred), listed=listed, confirmed=confirmed, limits=p.limits
    )
    if verdict.tripped:
        p.deferred.clear()
        raise DeletionsPaused(verdict)
    if confirmed and p.deferred:
        async with p.sessionmaker() as session, session.begin():
            await session.execute(
                update(Connection)
                .where(Connection.id == p.connection_id)
                .values(confirmed_deletions=0)
            )


async def carry_out_and_commit(p: Pass, item: Deferred) -> Delete | Replan | None:
    """One deletion the guard let through, planned again: a plain remote deletion of a
    linked event comes back as a ``Delete`` to send with the others; anything else the new
    plan says is performed now (answering a ``Replan`` when a remote write needs one)."""
    async with p.sessionmaker() as session:
        ctx = await p.context(session)
        link = await session.get(Link, item.link_id) if item.link_id else None
        row = await ctx.view.load(item.kind, item.entry_id)
        host = await ctx.view.item(row)
        # Plan again: the host may have changed while the round paged on, and an edit
        # made meanwhile must win over a deletion planned before it.
        side = host.side if host else None
        action = plan(link_state(link), side, item.remote_side, ctx.policy)
        if action.op is Op.NOTHING:
            await ack(p, session, ctx.connection, item.kind, item.entry_id, version_of(row))
            await session.commit()
            return None
        if action.conflict is None and action.effect is Op.DELETE_REMOTE and link:
            return Delete(link.id, link.remote_id, action.if_match,
                          item.kind, item.entry_id, version_of(row))  # fmt: skip
        return await perform_and_commit(
            p, session, action, link, row, host, item.remote, item.kind, item.entry_id
        )
