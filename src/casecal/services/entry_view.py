"""What an entry's page reads beside the entry itself: the readable names of the people and
the case it refers to, and the people whose calendars it goes to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.services.access import Actor
from casecal.store.tables import Appointment, Case, CaseAssignment, User


async def entry_names(session: AsyncSession, entry: Any) -> dict[str, str]:
    """Readable names of the people and the case ``entry`` refers to, by id (the entry's own
    firm only)."""
    ids = [getattr(entry, n, None) for n in ("owner_id", "assigned_user_id")]
    people = await session.scalars(select(User).where(User.id.in_([i for i in ids if i])))
    found = {str(u.id): f"{u.name} ({u.email})" for u in people}
    case_id = getattr(entry, "case_id", None)
    case = await session.get(Case, case_id) if case_id is not None else None
    if case is not None and case.firm_id == entry.firm_id:
        found[str(case.id)] = f"{case.number} · {case.beneficiary}"
    return found


@dataclass(frozen=True)
class Recipient:
    id: uuid.UUID
    name: str
    email: str


@dataclass(frozen=True)
class Recipients:
    """Whose calendars an entry goes to; ``managers`` when they are its case's case managers
    (a case entry that names nobody)."""

    people: list[Recipient]
    managers: bool


async def calendar_recipients(session: AsyncSession, actor: Actor, entry: Any) -> Recipients:
    """The appointment's owner, the person a case entry names, or else the case's case
    managers, by name (the actor's firm only)."""
    if isinstance(entry, Appointment):
        ids, managers = [entry.owner_id], False
    elif entry.assigned_user_id is not None:
        ids, managers = [entry.assigned_user_id], False
    else:
        assigned = select(CaseAssignment.user_id).where(CaseAssignment.case_id == entry.case_id)
        ids, managers = list(await session.scalars(assigned)), True
    users = await session.scalars(
        select(User).where(User.id.in_(ids), User.firm_id == actor.firm_id).order_by(User.name)
    )
    return Recipients([Recipient(u.id, u.name, u.email) for u in users], managers)
