"""Sign-in budgets kept in the database, so every process sees the same counts.

OWASP's device-cookie approach, per account: a browser that signed in to an account before
carries a signed device cookie bound to that account and spends its own budget (``device:``)
when it checks a password against it; every other check of an account spends that account's
shared budget (``account:``) and the client address's (``addr:``, a larger one, so one office
behind a NAT is not locked out by a colleague's typos); an email with no account spends the
email's (``email:``). An account whose budget is spent is not checked at all, so a browser
bound to one account of an address cannot use its own budget against another firm's account
of the same address, and an attacker's guesses never lock the owner's known browser out.

Every attempt is counted atomically *before* its password check (an upsert returning the new
count), so concurrent requests from any number of processes get no more checks than the
budget; a successful sign-in takes its attempt back, and a known browser's budget starts again
at most ``RESETS`` times a window. A key over its budget is locked for ``lock``; every row
expires (and is purged) on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.sign_in_budgets import RESETS, Budget, Gate, throttle_key
from casecal.store.tables import SignInThrottle


@dataclass
class Admitted:
    """What an attempt may check after spending its budgets."""

    gates: list[Gate] = field(default_factory=list)
    """The gates within budget (their accounts may be checked)."""
    locked_until: datetime | None = None
    """When the last refused gate opens again."""

    @property
    def accounts(self) -> list[uuid.UUID]:
        return [a for gate in self.gates for a in gate.accounts]


def _upsert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def spend(session: AsyncSession, budget: Budget, now: datetime) -> datetime | None:
    """Count one attempt against ``budget`` in one atomic statement, whichever process runs
    it; ``None`` when it is within the budget, else when the budget opens again (an attempt
    over the limit locks it)."""
    insert = _upsert(session)
    row = SignInThrottle
    fresh = row.window_started_at <= now - budget.window
    expires = now + budget.window + budget.lock
    statement = insert(row).values(
        key=budget.key, failures=1, window_started_at=now, locked_until=None, expires_at=expires
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[row.key],
        set_={
            "failures": case((fresh, 1), else_=row.failures + 1),
            "window_started_at": case((fresh, now), else_=row.window_started_at),
            "expires_at": expires,
        },
    ).returning(row.failures, row.locked_until)
    count, until = (await session.execute(upsert)).one()
    if until is not None and until > now:
        return until  # type: ignore[no-any-return]
    if count <= budget.limit:
        return None
    until = now + budget.lock
    await session.execute(update(row).where(row.key == budget.key).values(locked_until=until))
    return until


async def admit(session: AsyncSession, gates: Sequence[Gate], now: datetime) -> Admitted:
    """Spend each gate's budgets (each key once per attempt, stopping at a gate's first spent
    budget), purge expired rows and commit, so the counts are everyone's before any password
    is checked."""
    admitted = Admitted()
    seen: dict[str, datetime | None] = {}
    for gate in gates:
        until: datetime | None = None
        for budget in gate.budgets:
            if budget.key not in seen:
                seen[budget.key] = await spend(session, budget, now)
            until = seen[budget.key]
            if until is not None:
                break
        if until is None:
            admitted.gates.append(gate)
        elif admitted.locked_until is None or until > admitted.locked_until:
            admitted.locked_until = until
    await purge_expired(session, now)
    await session.commit()
    return admitted


async def take_back(
    session: AsyncSession, admitted: Admitted, opened: Collection[uuid.UUID], now: datetime
) -> None:
    """A successful sign-in takes back its attempt from the budgets of the gates it opened
    (not from a budget also spent by a check that failed); a known browser's own budget
    starts again, at most ``RESETS`` times a window. The caller commits."""
    opened_gates = [g for g in admitted.gates if g.accounts and set(g.accounts) <= set(opened)]
    failed = {b.key for g in admitted.gates if g not in opened_gates for b in g.budgets}
    row = SignInThrottle
    for budget in {b for g in opened_gates for b in g.budgets if b.key not in failed}:
        if budget.trusted_device and await _may_reset(session, budget, now):
            await session.execute(delete(row).where(row.key == budget.key))
            continue
        await session.execute(
            update(row)
            .where(row.key == budget.key, row.failures > 0)
            .values(failures=row.failures - 1)
        )


async def _may_reset(session: AsyncSession, budget: Budget, now: datetime) -> bool:
    resets = Budget(throttle_key("reset", budget.key), RESETS, budget.window, budget.window)
    return await spend(session, resets, now) is None


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete the rows whose budgets have expired (in the caller's transaction); also run by
    the scheduled housekeeping, so an attack that stopped leaves nothing behind."""
    result = await session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
