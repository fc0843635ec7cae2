"""Push channel health beyond refused deliveries: a channel that stayed silent while its
calendar changed (a pass found remote news it never announced) is put in doubt, so its
connection polls (``triggers.due_connections``) until the channel delivers a valid
notification again. Runs from the sweep of the embedded scheduler and of the workers.

The doubt is recorded in ``push_channels.last_refused_at`` (a delivery that should have come
and was not accepted): healthy again once ``last_valid_at`` is newer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.domain.push_health import RunSeen, missed_change, remote_changed
from casecal.store.tables import PushChannelRow, SyncRun, utcnow
from casecal.sync.outcomes import PassOutcome

log = structlog.get_logger(__name__)

GRACE = timedelta(minutes=2)
"""A pass is judged this long after it ends: a notification may arrive after the pass that
already imported its change (providers announce within seconds to a minute)."""
LOOKBACK = timedelta(minutes=15)
"""How far back the first judgement of a process looks."""


class SilenceJudge:
    """Judges the passes that ended since the last judgement (``GRACE`` ago and older)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        grace: timedelta = GRACE,
        lookback: timedelta = LOOKBACK,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.grace = grace
        self.lookback = lookback
        self.judged_until: datetime | None = None

    async def judge(self) -> int:
        """Put in doubt every channel found silent; returns how many."""
        now = self.clock()
        until = now - self.grace
        since = self.judged_until or until - self.lookback
        if until <= since:
            return 0
        doubted = 0
        async with self.sessionmaker() as session, session.begin():
            firsts = await _first_news(session, since, until)
            for connection_id, first in firsts.items():
                runs = await _runs_from_previous(session, connection_id, first, until)
                for channel in await _trusted_channels(session, connection_id):
                    if missed_change(channel.created_at, channel.last_valid_at, runs) is None:
                        continue
                    await session.execute(
                        update(PushChannelRow)
                        .where(PushChannelRow.id == channel.id)
                        .values(last_refused_at=now)
                    )
                    log.warning(
                        "push channel silent while the remote changed: polling",
                        channel=channel.channel_id,
                        connection_id=str(connection_id),
                    )
                    doubted += 1
        self.judged_until = until
        return doubted


async def _first_news(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[uuid.UUID, datetime]:
    """The start of the first pass with remote news ended in (since, until], per connection."""
    rows = await session.execute(
        select(SyncRun.connection_id, SyncRun.started_at, SyncRun.counts)
        .where(
            SyncRun.outcome == PassOutcome.OK.value,
            SyncRun.finished_at > since,
            SyncRun.finished_at <= until,
        )
        .order_by(SyncRun.started_at)
    )
    firsts: dict[uuid.UUID, datetime] = {}
    for connection_id, started_at, counts in rows.all():
        if connection_id not in firsts and remote_changed(counts or {}):
            firsts[connection_id] = started_at
    return firsts


async def _runs_from_previous(
    session: AsyncSession, connection_id: uuid.UUID, first: datetime, until: datetime
) -> list[RunSeen]:
    """The connection's successful passes from the one before ``first`` up to ``until``."""
    ok = and_(SyncRun.connection_id == connection_id, SyncRun.outcome == PassOutcome.OK.value)
    previous = await session.scalar(
        select(func.max(SyncRun.started_at)).where(ok, SyncRun.started_at < first)
    )
    rows = await session.execute(
        select(SyncRun.started_at, SyncRun.counts)
        .where(ok, SyncRun.started_at >= (previous or first), SyncRun.finished_at <= until)
        .order_by(SyncRun.started_at)
    )
    return [RunSeen(started, remote_changed(counts or {})) for started, counts in rows.all()]


async def _trusted_channels(
    session: AsyncSession, connection_id: uuid.UUID
) -> list[PushChannelRow]:
    """The connection's live channels not already in doubt."""
    rows = await session.scalars(
        select(PushChannelRow).where(
            PushChannelRow.connection_id == connection_id,
            PushChannelRow.stopped_at.is_(None),
            or_(
                PushChannelRow.last_refused_at.is_(None),
                PushChannelRow.last_valid_at > PushChannelRow.last_refused_at,
            ),
        )
    )
    return list(rows.all())
