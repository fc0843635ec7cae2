"""API bearer tokens: ``cc_`` + random text, shown once; only the SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import ApiToken, User, utcnow

TOKEN_PREFIX = "cc_"  # noqa: S105 - a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most once a minute per token, not on every request."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly made token. ``token`` exists only here; the database keeps its hash."""

    id: uuid.UUID
    token: str
    prefix: str
    name: str
    created_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def issue_token(session: AsyncSession, user: User, name: str = "api") -> IssuedToken:
    """Add a token row for ``user`` (the caller commits) and return the token text once."""
    token = generate_token()
    row = ApiToken(
        id=uuid.uuid4(),
        firm_id=user.firm_id,
        user_id=user.id,
        name=name,
        token_hash=hash_token(token),
        prefix=token[:10],
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(row.id, token, row.prefix, row.name, row.created_at)


async def authenticate(session: AsyncSession, token: str) -> User | None:
    """The active user owning the live token ``token``, or None.

    The lookup goes through the hash, so the token text is never compared byte by byte; the
    final comparison of hashes is constant-time as well.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    found = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest)
        )
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None or not user.is_active or user.firm_id != row.firm_id:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        await session.commit()
    return user
