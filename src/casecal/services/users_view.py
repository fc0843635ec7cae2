"""What the Users page reads: the firm's people and teams by name, and who holds a Calendar
Sync seat. Reads only, scoped to the firm given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.sync_view import seated_user_ids
from casecal.store.tables import Team, User


@dataclass(frozen=True)
class FirmPeople:
    users: list[User]
    teams: list[Team]
    seated: set[uuid.UUID] = field(default_factory=set)


async def firm_people(session: AsyncSession, firm_id: uuid.UUID) -> FirmPeople:
    users = await session.scalars(select(User).where(User.firm_id == firm_id).order_by(User.name))
    teams = await session.scalars(select(Team).where(Team.firm_id == firm_id).order_by(Team.name))
    return FirmPeople(list(users), list(teams), await seated_user_ids(session, firm_id))
