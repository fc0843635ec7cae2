"""Outbox rows: exactly one per affected user and change, in the change's own transaction."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, COURT, FirmWorld, is_problem, outbox_rows

from casecal.store.tables import OutboxRow


def _summary(rows: list[OutboxRow]) -> set[tuple[str, str, int, str]]:
    return {(str(r.user_id), str(r.entry_id), r.entry_version, r.operation.value) for r in rows}


async def test_create_update_delete_write_one_row_per_affected_user(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    auth = firm_a.admin.auth
    await client.patch(
        f"{API}/cases/{firm_a.case_id}", json={"manager_ids": [firm_a.cm1.id, firm_a.cm2.id]},
        headers=auth,
    )  # fmt: skip
    start = len(await outbox_rows(sessionmaker))
    made = await client.post(f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id},
                             headers=auth)  # fmt: skip
    cid = made.json()["id"]
    await client.patch(f"{API}/court-dates/{cid}", json={"judge": "Hon. Lee"}, headers=auth)
    await client.patch(f"{API}/court-dates/{cid}", json={"assigned_user_id": firm_a.cm2.id},
                       headers=auth)  # fmt: skip
    await client.delete(f"{API}/court-dates/{cid}", headers=auth)
    rows = (await outbox_rows(sessionmaker))[start:]
    assert _summary(rows) == {
        (firm_a.cm1.id, cid, 1, "created"),
        (firm_a.cm2.id, cid, 1, "created"),
        (firm_a.cm1.id, cid, 2, "updated"),
        (firm_a.cm2.id, cid, 2, "updated"),
        (firm_a.cm1.id, cid, 3, "unassigned"),
        (firm_a.cm2.id, cid, 3, "updated"),
        (firm_a.cm2.id, cid, 4, "deleted"),
    }
    assert len(rows) == 7
    assert all(r.firm_id == uuid.UUID(firm_a.id) and r.processed_at is None for r in rows)


async def test_reassignment_writes_rows_for_both_case_managers(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    auth = firm_a.admin.auth
    court = await client.post(f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id},
                              headers=auth)  # fmt: skip
    reminder = await client.post(
        f"{API}/step-reminders",
        json={"case_id": firm_a.case_id, "step_name": "Biometrics", "due_date": "2026-04-01"},
        headers=auth,
    )
    pinned = await client.post(
        f"{API}/interviews",
        json={"case_id": firm_a.case_id, "interview_type": "Green card",
              "start_at": "2026-04-02T09:00:00Z", "assigned_user_id": firm_a.admin.id},
        headers=auth,
    )  # fmt: skip
    deleted = await client.post(f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id},
                                headers=auth)  # fmt: skip
    await client.delete(f"{API}/court-dates/{deleted.json()['id']}", headers=auth)
    start = len(await outbox_rows(sessionmaker))

    moved = await client.patch(
        f"{API}/cases/{firm_a.case_id}", json={"manager_ids": [firm_a.cm2.id]}, headers=auth
    )
    assert moved.json()["manager_ids"] == [firm_a.cm2.id]
    rows = (await outbox_rows(sessionmaker))[start:]
    cid, rid = court.json()["id"], reminder.json()["id"]
    assert _summary(rows) == {
        (firm_a.cm1.id, cid, 2, "unassigned"),
        (firm_a.cm2.id, cid, 2, "assigned"),
        (firm_a.cm1.id, rid, 2, "unassigned"),
        (firm_a.cm2.id, rid, 2, "assigned"),
    }
    assert len(rows) == 4  # the pinned interview and the deleted court date do not move
    assert (await client.get(f"{API}/court-dates/{cid}", headers=auth)).json()["version"] == 2
    assert (await client.get(f"{API}/interviews/{pinned.json()['id']}", headers=auth)).json()[
        "version"
    ] == 1


async def test_failed_reassignment_leaves_no_row(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    auth = firm_a.admin.auth
    await client.post(f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id}, headers=auth)
    start = len(await outbox_rows(sessionmaker))
    bad = {"manager_ids": [firm_a.cm2.id, firm_a.staff.id]}
    is_problem(await client.patch(f"{API}/cases/{firm_a.case_id}", json=bad, headers=auth), 422)
    assert len(await outbox_rows(sessionmaker)) == start
    case = (await client.get(f"{API}/cases/{firm_a.case_id}", headers=auth)).json()
    assert case["manager_ids"] == [firm_a.cm1.id]
