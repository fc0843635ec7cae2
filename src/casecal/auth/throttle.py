"""Failed sign-in budgets kept in the database, so every process sees the same counts.

OWASP's device-cookie approach: a browser that signed in successfully before carries a signed
device cookie and spends its own budget (``device:``); every other client spends the shared
budget of the email it tries (``email:``) and of its address (``addr:``, a larger one, so one
office behind a NAT is not locked out by a colleague's typos). An attacker's failures against
an email therefore never lock out the owner's known browser. Only failures count; a key over
its budget is locked for ``lock`` and every row expires (and is purged) on its own.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import SignInThrottle

WINDOW = timedelta(minutes=15)
ADDRESS_FACTOR = 10
"""An untrusted client address may fail this many times the per-email budget."""


def throttle_key(kind: str, subject: str) -> str:
    """The stored key: the SHA-256 of the prefixed subject (no email is stored in clear)."""
    return hashlib.sha256(f"{kind}:{subject}".encode()).hexdigest()


@dataclass(frozen=True)
class Budget:
    key: str
    limit: int
    """Failures allowed in ``window`` before the key is locked."""
    window: timedelta = WINDOW
    lock: timedelta = WINDOW
    trusted_device: bool = False
    """A known browser's own budget: it starts again when that browser signs in."""


def budgets_for(*, email: str, address: str, device: str | None, limit: int) -> tuple[Budget, ...]:
    """The budgets one attempt spends: its trusted device's own, else the email's and the
    address's shared ones."""
    if device is not None:
        return (Budget(throttle_key("device", device), limit, trusted_device=True),)
    return (
        Budget(throttle_key("email", email), limit),
        Budget(throttle_key("addr", address), limit * ADDRESS_FACTOR),
    )


def retry_after(locked_until: datetime, now: datetime) -> int:
    """Whole seconds to wait, at least one."""
    return max(1, math.ceil((locked_until - now).total_seconds()))


async def locked_until(
    session: AsyncSession, budgets: Sequence[Budget], now: datetime
) -> datetime | None:
    """When the last of the locked budgets opens again; ``None`` when none is locked."""
    found = await session.scalar(
        select(func.max(SignInThrottle.locked_until)).where(
            SignInThrottle.key.in_([b.key for b in budgets]),
            SignInThrottle.locked_until > now,
        )
    )
    return found


def _upsert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def record_failure(session: AsyncSession, budgets: Sequence[Budget], now: datetime) -> None:
    """Count one failure against each budget (atomically, whichever process runs it), lock
    the budgets it takes over their limit, and purge expired rows. Commits."""
    insert = _upsert(session)
    row = SignInThrottle
    for budget in budgets:
        fresh = row.window_started_at <= now - budget.window
        expires = now + budget.window + budget.lock
        statement = insert(row).values(
            key=budget.key, failures=1, window_started_at=now, locked_until=None,
            expires_at=expires,
        )  # fmt: skip
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[row.key],
                set_={
                    "failures": case((fresh, 1), else_=row.failures + 1),
                    "window_started_at": case((fresh, now), else_=row.window_started_at),
                    "expires_at": expires,
                },
            )
        )
        await session.execute(
            update(row)
            .where(row.key == budget.key, row.failures >= budget.limit)
            .values(locked_until=now + budget.lock)
        )
    await purge_expired(session, now)
    await session.commit()


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete the rows whose budgets have expired (in the caller's transaction); also run by
    the scheduled housekeeping, so an attack that stopped leaves nothing behind."""
    result = await session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_device(session: AsyncSession, budgets: Sequence[Budget]) -> None:
    """A successful sign-in clears its trusted device's count (the caller commits); the
    shared budgets of an email or address are left to expire."""
    keys = [b.key for b in budgets if b.trusted_device]
    if keys:
        await session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(keys)))
