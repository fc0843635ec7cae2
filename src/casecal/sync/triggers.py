"""Sync triggers kept in the database (I7): mark a connection dirty, find the connections that
need a pass (dirty, pending outbox rows, overdue poll without a healthy push channel), and
record the outcome of a pass (clear the dirty mark it served, back off on failure honouring
Retry-After)."""

from __future__ import annotations

import enum
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import Connection, ConnectionStatus, OutboxRow, PushChannelRow
from casecal.sync.outcomes import PassOutcome

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


class Outcome(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    IDLE = "idle"
    """The connection cannot sync now (paused, needs re-auth, disconnected): nothing to retry."""

    @classmethod
    def of(cls, report_outcome: str) -> Outcome:
        """What the scheduler does next after a pass that ended with ``report_outcome`` (a
        ``PassOutcome``, or the same string from a pass that is not the engine's)."""
        if report_outcome == PassOutcome.OK:
            return cls.OK
        if report_outcome == PassOutcome.FAILED:
            return cls.FAILED
        return cls.IDLE


@dataclass(frozen=True, slots=True)
class Due:
    connection_id: uuid.UUID
    firm_id: uuid.UUID


def backoff_delay(failures: int, retry_after: float | None = None) -> timedelta:
    """Truncated exponential backoff after ``failures`` consecutive failures (30 s, 1 min,
    2 min ... capped at 1 h), never shorter than the provider's ``Retry-After``."""
    exponent = max(0, min(failures - 1, 16))
    delay: timedelta = min(BACKOFF_BASE * int(2**exponent), BACKOFF_CAP)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


async def mark_dirty(session: AsyncSession, connection_id: uuid.UUID, now: datetime) -> bool:
    """Ask for a pass; the newest request time wins, so a request made while a pass runs
    survives that pass. Returns False when no such connection exists."""
    result = await session.execute(
        update(Connection).where(Connection.id == connection_id).values(sync_requested_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def _healthy_push(now: datetime) -> object:
    """A live channel that is not in doubt: none of its deliveries was refused, and it was not
    found silent while the remote changed (``channel_health``), since its last valid one."""
    return exists().where(
        PushChannelRow.connection_id == Connection.id,
        PushChannelRow.stopped_at.is_(None),
        PushChannelRow.expires_at > now,
        or_(
            PushChannelRow.last_refused_at.is_(None),
            PushChannelRow.last_valid_at > PushChannelRow.last_refused_at,
        ),
    )


def _pending_outbox() -> object:
    return exists().where(
        OutboxRow.firm_id == Connection.firm_id,
        OutboxRow.user_id == Connection.user_id,
        OutboxRow.processed_at.is_(None),
    )


async def due_connections(session: AsyncSession, now: datetime, limit: int = 10_000) -> list[Due]:
    """Active connections, not backing off, that are dirty, have pending outbox rows for their
    user, or (without a healthy push channel) have a poll due."""
    poll_due = and_(
        ~_healthy_push(now),  # type: ignore[operator]
        or_(Connection.next_poll_at.is_(None), Connection.next_poll_at <= now),
    )
    rows = await session.execute(
        select(Connection.id, Connection.firm_id)
        .where(
            Connection.status == ConnectionStatus.ACTIVE,
            or_(Connection.backoff_until.is_(None), Connection.backoff_until <= now),
            or_(
                Connection.sync_requested_at.is_not(None),
                _pending_outbox(),  # type: ignore[arg-type]
                poll_due,
            ),
        )
        .order_by(Connection.sync_requested_at)
        .limit(limit)
    )
    return [Due(connection_id, firm_id) for connection_id, firm_id in rows.all()]


async def record_outcome(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    served: datetime | None,
    outcome: Outcome,
    now: datetime,
    poll_every: timedelta,
    retry_after: float | None = None,
) -> datetime | None:
    """Save what a pass did. ``served`` is the dirty mark read when the pass started: it is
    cleared only if nothing newer arrived. Returns ``backoff_until`` after a failure."""
    connection = await session.get(Connection, connection_id, with_for_update=True)
    if connection is None:
        return None
    if outcome is Outcome.FAILED:
        connection.consecutive_failures += 1
        until = now + backoff_delay(connection.consecutive_failures, retry_after)
        connection.backoff_until = until
        if connection.sync_requested_at is None:
            connection.sync_requested_at = now  # the retry is a trigger too (I7)
        return until
    requested = connection.sync_requested_at
    if requested is not None and served is not None and requested <= served:
        connection.sync_requested_at = None
    connection.consecutive_failures = 0
    connection.backoff_until = None
    if outcome is Outcome.OK:
        connection.next_poll_at = now + poll_every
    return None


async def requested_at(session: AsyncSession, connection_id: uuid.UUID) -> datetime | None:
    value: datetime | None = await session.scalar(
        select(Connection.sync_requested_at).where(Connection.id == connection_id)
    )
    return value


async def acked_latencies(
    session: AsyncSession, connection_id: uuid.UUID, since: datetime
) -> list[float]:
    """Seconds from each outbox row's creation to its acknowledgement, for the rows of the
    connection's user acknowledged since ``since`` (one pass)."""
    rows = await session.execute(
        select(OutboxRow.created_at, OutboxRow.processed_at)
        .join(
            Connection,
            and_(Connection.user_id == OutboxRow.user_id, Connection.firm_id == OutboxRow.firm_id),
        )
        .where(Connection.id == connection_id, OutboxRow.processed_at >= since)
    )
    return [
        max(0.0, (processed - created).total_seconds())
        for created, processed in rows.all()
        if processed is not None
    ]


current_connection: ContextVar[uuid.UUID | None] = ContextVar("current_connection", default=None)
"""The connection whose pass runs in this task; set by the scheduler around each pass."""


class RetryAfterBook:
    """The longest ``Retry-After`` a provider asked of each connection during its pass: fed by
    the HTTP client's response hook, read once by the scheduler when the pass fails."""

    def __init__(self) -> None:
        self._hints: dict[uuid.UUID, float] = {}

    def note(self, seconds: float | None) -> None:
        connection_id = current_connection.get()
        if connection_id is None or seconds is None:
            return
        self._hints[connection_id] = max(seconds, self._hints.get(connection_id, 0.0))

    def take(self, connection_id: uuid.UUID) -> float | None:
        return self._hints.pop(connection_id, None)
