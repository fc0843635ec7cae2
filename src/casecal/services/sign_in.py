"""Password sign-in across firms: an email may belong to people of several firms, so the
password is checked against each of that address's active accounts and only the accounts it
opens are ever named (a chooser lists their firms; no other firm is revealed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.passwords import hash_password, needs_rehash, verify_password
from casecal.store.tables import Firm, User


@dataclass(frozen=True)
class Opened:
    """An account the password opened, and its firm's name for the chooser."""

    user_id: uuid.UUID
    firm_name: str


async def accounts_opened(session: AsyncSession, email: str, password: str) -> list[Opened]:
    """The active accounts of ``email`` whose password is ``password``, by firm name. An
    unknown email costs one hash verification like a known one."""
    users = list(
        await session.scalars(
            select(User).where(User.email == email, User.is_active.is_(True)).order_by(User.id)
        )
    )
    if not users:
        verify_password(None, password)
        return []
    opened = [u for u in users if verify_password(u.password_hash, password)]
    for user in opened:
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    names = await _firm_names(session, [u.firm_id for u in opened])
    return sorted(
        (Opened(u.id, names.get(u.firm_id, "")) for u in opened), key=lambda o: o.firm_name
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
