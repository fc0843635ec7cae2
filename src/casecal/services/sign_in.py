"""Password sign-in across firms: an email may belong to people of several firms, so the
password is checked against each of that address's active accounts the throttle admits, and
only the accounts it opens are ever named (a chooser lists their firms; no other firm is
revealed). The argon2 checks run in a worker thread, off the event loop."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.passwords import hash_password, needs_rehash, verify_password
from casecal.services.lookups import get_in_firm
from casecal.store.tables import Firm, User


@dataclass(frozen=True)
class Account:
    """One active account of an email, as read before the throttle admits any check."""

    user_id: uuid.UUID
    firm_id: uuid.UUID
    password_hash: str | None


@dataclass(frozen=True)
class Opened:
    """An account the password opened, and its firm's name for the chooser."""

    user_id: uuid.UUID
    firm_name: str
    firm_id: uuid.UUID


async def accounts_of(session: AsyncSession, email: str) -> list[Account]:
    """The active accounts of ``email`` in every firm, in a stable order."""
    rows = await session.execute(
        select(User.id, User.firm_id, User.password_hash)
        .where(User.email == email, User.is_active.is_(True))
        .order_by(User.id)
    )
    return [Account(row.id, row.firm_id, row.password_hash) for row in rows]


def _matching(accounts: Sequence[Account], password: str) -> list[Account]:
    if not accounts:
        verify_password(None, password)  # an unknown email costs one verification too
        return []
    return [a for a in accounts if verify_password(a.password_hash, password)]


async def accounts_opened(
    session: AsyncSession, accounts: Sequence[Account], admitted: Collection[uuid.UUID],
    password: str,
) -> list[Opened]:  # fmt: skip
    """The ``admitted`` accounts whose password is ``password``, by firm name (their hashes
    renewed when today's parameters are stronger)."""
    checked = [a for a in accounts if a.user_id in admitted]
    opened = await to_thread.run_sync(_matching, checked, password)
    for account in opened:
        if account.password_hash and needs_rehash(account.password_hash):
            user = await session.get(User, account.user_id)
            if user is not None:
                user.password_hash = hash_password(password)
    names = await _firm_names(session, [a.firm_id for a in opened])
    return sorted(
        (Opened(a.user_id, names.get(a.firm_id, ""), a.firm_id) for a in opened),
        key=lambda o: o.firm_name,
    )


async def _firm_names(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Firm.id, Firm.name).where(Firm.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def active_user(session: AsyncSession, user_id: uuid.UUID, email: str) -> User | None:
    """The account chosen after the password opened it, if it is still active and still
    ``email``'s."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.email != email:
        return None
    return user


async def signed_in_user(session: AsyncSession, user_id: uuid.UUID, firm_id: uuid.UUID) -> User:
    """The user a sign-in (password, OIDC or SAML) has just opened, read in that user's firm."""
    return await get_in_firm(session, User, user_id, firm_id)
