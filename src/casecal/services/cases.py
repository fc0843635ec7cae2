"""Case use cases, including (re)assignment of case managers and its outbox fan-out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.audience import audience_change
from casecal.errors import Conflict, ValidationFailed
from casecal.services.access import Actor, require_editor
from casecal.services.entries import assign, commit
from casecal.services.lookups import get_case_manager, get_in_firm
from casecal.services.outbox import CaseEntryRow, record
from casecal.services.paging import Page, fetch_page
from casecal.store.tables import (
    Case,
    CaseAssignment,
    CourtDate,
    Interview,
    OutboxOp,
    StepReminder,
    utcnow,
)

CASE_ENTRY_TABLES: tuple[type[CourtDate] | type[Interview] | type[StepReminder], ...] = (
    CourtDate,
    Interview,
    StepReminder,
)


async def list_cases(session: AsyncSession, actor: Actor, *, limit: int, offset: int) -> Page[Case]:
    query = select(Case).where(Case.firm_id == actor.firm_id)
    return await fetch_page(
        session, query, order_by=(Case.number, Case.id), limit=limit, offset=offset
    )


async def get_case(session: AsyncSession, actor: Actor, case_id: uuid.UUID) -> Case:
    return await get_in_firm(session, Case, case_id, actor.firm_id)


async def _check_managers(
    session: AsyncSession, actor: Actor, manager_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    if len(set(manager_ids)) != len(manager_ids):
        raise ValidationFailed("manager_ids lists a user twice", field="manager_ids")
    for i, user_id in enumerate(manager_ids):
        await get_case_manager(session, user_id, actor.firm_id, f"manager_ids.{i}")
    return list(manager_ids)


async def _number_free(
    session: AsyncSession, actor: Actor, number: str, case_id: uuid.UUID | None
) -> None:
    query = select(func.count()).where(Case.firm_id == actor.firm_id, Case.number == number)
    if case_id is not None:
        query = query.where(Case.id != case_id)
    if (await session.execute(query)).scalar_one():
        raise Conflict(f"a case numbered {number!r} exists already", field="number")


async def create_case(session: AsyncSession, actor: Actor, data: Mapping[str, Any]) -> Case:
    require_editor(actor, "create cases")
    fields = dict(data)
    managers = await _check_managers(session, actor, fields.pop("manager_ids", None) or [])
    await _number_free(session, actor, fields["number"], None)
    case = Case(id=uuid.uuid4(), firm_id=actor.firm_id, **fields)
    case.assignments = [
        CaseAssignment(case_id=case.id, user_id=u, firm_id=actor.firm_id) for u in managers
    ]
    session.add(case)
    await commit(session)
    return case


async def update_case(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, data: Mapping[str, Any]
) -> Case:
    """Change a case. A new ``manager_ids`` reassigns it: every live entry of the case that
    follows the case managers gets a new version, UNASSIGNED rows for the managers who lose it
    and ASSIGNED rows for those who gain it."""
    case = await get_case(session, actor, case_id)
    require_editor(actor, "change cases")
    fields = dict(data)
    new_managers = fields.pop("manager_ids", None)
    if "number" in fields:
        await _number_free(session, actor, fields["number"], case.id)
    if new_managers is not None:
        await _check_managers(session, actor, new_managers)
        await _reassign(session, case, frozenset(new_managers))
    if assign(case, fields):
        case.updated_at = utcnow()
    await commit(session)
    return case


async def _reassign(session: AsyncSession, case: Case, after: frozenset[uuid.UUID]) -> None:
    before = frozenset(case.manager_ids)
    change = audience_change(before, after)
    if not change.lost and not change.gained:
        return
    case.assignments = [a for a in case.assignments if a.user_id in after] + [
        CaseAssignment(case_id=case.id, user_id=u, firm_id=case.firm_id)
        for u in sorted(change.gained)
    ]
    now = utcnow()
    for model in CASE_ENTRY_TABLES:
        entries = await session.execute(
            select(model).where(
                model.case_id == case.id,
                model.firm_id == case.firm_id,
                model.deleted_at.is_(None),
                model.assigned_user_id.is_(None),
            )
        )
        for entry in entries.scalars():
            _bump(session, cast(CaseEntryRow, entry), change.lost, change.gained, now)
    case.updated_at = now


def _bump(
    session: AsyncSession,
    entry: CaseEntryRow,
    lost: frozenset[uuid.UUID],
    gained: frozenset[uuid.UUID],
    now: Any,
) -> None:
    version = entry.version + 1
    entry.updated_at = now
    record(session, entry, OutboxOp.UNASSIGNED, lost, version)
    record(session, entry, OutboxOp.ASSIGNED, gained, version)


async def delete_case(session: AsyncSession, actor: Actor, case_id: uuid.UUID) -> None:
    """Delete a case that has no live entries (delete or move its entries first)."""
    case = await get_case(session, actor, case_id)
    require_editor(actor, "delete cases")
    for model in CASE_ENTRY_TABLES:
        live = await session.execute(
            select(func.count()).where(model.case_id == case.id, model.deleted_at.is_(None))
        )
        if live.scalar_one():
            raise Conflict("the case still has entries; delete them first")
    await session.delete(case)
    await commit(session)
