"""Browser sessions as stored: found by the SHA-256 of the cookie value (only the digest is ever
stored) with their user while that user is active in the session's firm, started (the user's
expired sessions removed) and ended."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import Firm, User, WebSession, utcnow


def token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class LiveSession:
    """A session that has not expired, and its active user."""

    id: str
    csrf_token: str
    user: User
    time_zone: str
    """The zone the user's pages show times in: their own setting, else the firm's."""


async def live_session(session: AsyncSession, cookie: str) -> LiveSession | None:
    """The session behind the cookie value ``cookie``, or None when it is unknown, expired, or
    its user is gone, deactivated or no longer in the session's firm."""
    row = await session.get(WebSession, token_digest(cookie))
    if row is None or row.expires_at <= utcnow():
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active or user.firm_id != row.firm_id:
        return None
    firm = await session.get(Firm, user.firm_id)
    zone = user.time_zone or (firm.time_zone if firm is not None else "UTC")
    return LiveSession(row.id, row.csrf_token, user, zone)


async def start(session: AsyncSession, user: User, *, hours: int) -> str:
    """Store a new session for ``user`` lasting ``hours`` and return the cookie value (shown
    only here); commits."""
    value = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=token_digest(value),
            firm_id=user.firm_id,
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    await session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    await session.commit()
    return value


async def end(session: AsyncSession, session_id: str) -> None:
    """Remove the session ``session_id`` (the digest of its cookie); commits."""
    await session.execute(delete(WebSession).where(WebSession.id == session_id))
    await session.commit()
