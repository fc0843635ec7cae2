"""What the push receivers record: the channels a notification names (found by the provider's
channel id, which the channel secret then proves; no firm is known before that), a valid or
refused delivery stamped on them, and a Google notification counted once."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import ProviderName, PushChannelRow

UNNUMBERED_WINDOW = timedelta(seconds=10)
"""Google notifications without a message number count once per channel in this window."""
MESSAGE_NUMBER_RESET = 10**6
"""A message number this far below the channel's last one is not a replay but a restart: the
last one was implausibly far ahead (Google counts up by one per notification), e.g. a single
notification numbered 2**63 - 1, which would otherwise silence the channel for good."""


async def channels_by_id(
    session: AsyncSession, provider: ProviderName, ids: Collection[str]
) -> dict[str, PushChannelRow]:
    """The channels of ``provider`` with the given provider ids, by id."""
    rows = await session.scalars(
        select(PushChannelRow).where(
            PushChannelRow.provider == provider, PushChannelRow.channel_id.in_(ids)
        )
    )
    return {row.channel_id: row for row in rows}


async def stamp(session: AsyncSession, row_ids: Collection[uuid.UUID], **values: datetime) -> None:
    """Set the given times (``last_valid_at``, ``last_refused_at``) on the channels."""
    if row_ids:
        await session.execute(
            update(PushChannelRow).where(PushChannelRow.id.in_(row_ids)).values(**values)
        )


async def google_first_time(
    session: AsyncSession, row: PushChannelRow, message_number: int | None, now: datetime
) -> bool:
    """Record a notification that checked out; False when it repeats one already seen: a
    message number not above the channel's last one (unless more than
    ``MESSAGE_NUMBER_RESET`` below it: the count starts again from it), or a second unnumbered
    notification of the channel within ``UNNUMBERED_WINDOW``."""
    query = update(PushChannelRow).where(PushChannelRow.id == row.id)
    if message_number is None:
        query = query.where(
            or_(
                PushChannelRow.last_unnumbered_at.is_(None),
                PushChannelRow.last_unnumbered_at <= now - UNNUMBERED_WINDOW,
            )
        ).values(last_unnumbered_at=now, last_valid_at=now)
    else:
        last, number = PushChannelRow.last_message_number, message_number
        query = query.where(
            or_(last < number, last - number > MESSAGE_NUMBER_RESET)  # no overflow: both >= 0
        ).values(last_message_number=number, last_valid_at=now)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))
