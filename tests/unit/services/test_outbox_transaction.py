"""The outbox rows of a change share its transaction: when the commit fails after the rows
were flushed to the database, neither the change nor any row remains."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.services.access import Actor
from casecal.services.case_entries import create_case_entry, update_case_entry
from casecal.services.cases import create_case, update_case
from casecal.services.firms import create_firm
from casecal.services.users import create_user
from casecal.store.tables import CaseAssignment, CourtDate, OutboxRow, Role


class DiskFull(Exception):
    pass


def _fail_after_flush(session: AsyncSession) -> None:
    """Fail right after the flush that wrote outbox rows to the database."""

    def fail(sync_session: Any, _context: Any) -> None:
        if any(isinstance(obj, OutboxRow) for obj in sync_session.new):
            raise DiskFull("the database went away after the flush")

    event.listen(session.sync_session, "after_flush", fail)


async def _rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessionmaker() as session:
        return list((await session.execute(select(OutboxRow))).scalars())


async def _setup(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[Actor, Any, Any, Any]:
    async with sessionmaker() as session:
        made = await create_firm(session, name="F", admin_email="a@f.test", admin_name="A")
        admin = Actor(made.admin_user_id, made.firm_id, Role.FIRM_ADMIN)
        cm1 = await create_user(session, admin, {"email": "c1@f.test", "name": "C1",
                                                 "role": Role.CASE_MANAGER})  # fmt: skip
        cm2 = await create_user(session, admin, {"email": "c2@f.test", "name": "C2",
                                                 "role": Role.CASE_MANAGER})  # fmt: skip
        case = await create_case(
            session, admin, {"number": "1", "beneficiary": "B", "manager_ids": [cm1.id]}
        )
        entry = await create_case_entry(
            session, admin, CourtDate,
            {"case_id": case.id, "hearing_type": "Master", "start_at": _when()},
        )  # fmt: skip
    return admin, case, entry, (cm1, cm2)


def _when() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 3, 10, 13, tzinfo=UTC)


async def test_successful_change_leaves_one_row_per_user(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin, case, _entry, (cm1, cm2) = await _setup(sessionmaker)
    async with sessionmaker() as session:
        await update_case(session, admin, case.id, {"manager_ids": [cm1.id, cm2.id]})
    rows = await _rows(sessionmaker)
    assert [(r.user_id, r.operation.value, r.entry_version) for r in rows] == [
        (cm1.id, "created", 1),
        (cm2.id, "assigned", 2),
    ]


async def test_failed_update_leaves_no_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin, _, entry, _ = await _setup(sessionmaker)
    before = len(await _rows(sessionmaker))
    async with sessionmaker() as session:
        _fail_after_flush(session)
        with pytest.raises(DiskFull):
            await update_case_entry(session, admin, CourtDate, entry.id, {"judge": "Hon. X"})
    assert len(await _rows(sessionmaker)) == before
    async with sessionmaker() as session:
        stored = await session.get(CourtDate, entry.id)
        assert stored is not None
        assert stored.judge == ""
        assert stored.version == 1


async def test_failed_reassignment_leaves_no_row_for_either_manager(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin, case, _, (cm1, cm2) = await _setup(sessionmaker)
    before = len(await _rows(sessionmaker))
    async with sessionmaker() as session:
        _fail_after_flush(session)
        with pytest.raises(DiskFull):
            await update_case(session, admin, case.id, {"manager_ids": [cm2.id]})
    assert len(await _rows(sessionmaker)) == before
    async with sessionmaker() as session:
        managers = await session.execute(
            select(CaseAssignment.user_id).where(CaseAssignment.case_id == case.id)
        )
        assert list(managers.scalars()) == [cm1.id]
