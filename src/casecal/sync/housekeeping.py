"""Scheduled purges of what CaseCal no longer needs and should not keep: the PKCE verifier and
nonce of OAuth states once used or expired, the states themselves an hour later, expired web
sessions and expired sign-in throttle keys. Run by the embedded scheduler's sweep and by the
workers' periodic task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth.throttle import purge_expired
from casecal.store.tables import OAuthState, WebSession, utcnow

log = structlog.get_logger(__name__)

EVERY = timedelta(minutes=10)
SECRETS_AFTER_USE = timedelta(minutes=1)
"""A used state's verifier and nonce are blanked this long after use (the callback that used
it has read them by then)."""
STATES_KEPT = timedelta(hours=1)
"""A used or expired state is deleted this long after: until then a replay or a late answer
gets its precise refusal ("already used", "expired") rather than "not one CaseCal started"."""


@dataclass(frozen=True, slots=True)
class Purged:
    states_scrubbed: int = 0
    states_deleted: int = 0
    sessions_deleted: int = 0
    throttle_keys_deleted: int = 0


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(session: AsyncSession, now: datetime) -> Purged:
    """One purge (in the caller's transaction)."""
    stale = or_(OAuthState.used_at <= now - STATES_KEPT, OAuthState.expires_at <= now - STATES_KEPT)
    states = await session.execute(
        delete(OAuthState).where(stale).execution_options(synchronize_session=False)
    )
    done = or_(
        and_(OAuthState.used_at.is_not(None), OAuthState.used_at <= now - SECRETS_AFTER_USE),
        OAuthState.expires_at <= now,
    )
    scrubbed = await session.execute(
        update(OAuthState)
        .where(done, or_(OAuthState.code_verifier != "", OAuthState.nonce != ""))
        .values(code_verifier="", nonce="")
        .execution_options(synchronize_session=False)
    )
    sessions = await session.execute(
        delete(WebSession)
        .where(WebSession.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    throttle = await purge_expired(session, now)
    return Purged(_count(scrubbed), _count(states), _count(sessions), throttle)


class Housekeeping:
    """Purges at most once per ``every`` when asked from a loop that runs more often."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        every: timedelta = EVERY,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.every = every
        self.last_run: datetime | None = None

    async def run(self) -> Purged:
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            purged = await purge(session, now)
        self.last_run = now
        if purged != Purged():
            log.info("housekeeping", states_scrubbed=purged.states_scrubbed,
                     states_deleted=purged.states_deleted,
                     sessions_deleted=purged.sessions_deleted,
                     throttle_keys_deleted=purged.throttle_keys_deleted)  # fmt: skip
        return purged

    async def run_if_due(self) -> Purged | None:
        if self.last_run is not None and self.clock() < self.last_run + self.every:
            return None
        return await self.run()
