"""Every list is paged with the same envelope and the same cap (``services.paging``): the
lists that were not (conflicts with restored ones, connections, seats, tokens, aliases)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld, is_problem

from casecal.services.paging import MAX_LIMIT
from casecal.store.tables import (
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    ProviderName,
)

THREE = 3


async def _seed(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm: FirmWorld
) -> None:
    """Three of everything in firm A: connections, conflicts (one restored), seats, tokens
    of cm1 (one exists already) and aliases of cm1."""
    auth = firm.admin.auth
    firm_id = uuid.UUID(firm.id)
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        for n, member in enumerate((firm.cm1, firm.cm2, firm.admin)):
            connection = Connection(
                firm_id=firm_id, user_id=uuid.UUID(member.id), provider=ProviderName.GOOGLE,
                status=ConnectionStatus.ACTIVE, calendar_id=f"c{n}",
                created_at=now + timedelta(seconds=n),
            )  # fmt: skip
            session.add(connection)
            await session.flush()
            session.add(
                ConflictRecord(
                    firm_id=firm_id, connection_id=connection.id,
                    entry_kind=EntryKind.APPOINTMENT, entry_id=uuid.uuid4(), winner="host",
                    created_at=now + timedelta(seconds=n),
                    restored_at=now if n == 0 else None,
                )
            )  # fmt: skip
    assert (await client.post(f"{API}/subscription", headers=auth)).status_code == 201
    for member in (firm.cm1, firm.cm2):
        seat = await client.post(f"{API}/subscription/seats", json={"user_id": member.id},
                                 headers=auth)  # fmt: skip
        assert seat.status_code == 201, seat.text
    third = await client.post(
        f"{API}/users", json={"email": "cm3@alpha.test", "name": "cm3", "role": "case_manager"},
        headers=auth,
    )  # fmt: skip
    seat = await client.post(f"{API}/subscription/seats",
                             json={"user_id": third.json()["id"]}, headers=auth)  # fmt: skip
    assert seat.status_code == 201, seat.text
    for n in range(2):
        made = await client.post(f"{API}/users/{firm.cm1.id}/tokens", json={"name": f"t{n}"},
                                 headers=auth)  # fmt: skip
        assert made.status_code == 201
    for n in range(THREE):
        alias = await client.post(
            f"{API}/users/{firm.cm1.id}/aliases",
            json={"provider": "google", "account_email": f"a{n}@other.test"}, headers=auth,
        )  # fmt: skip
        assert alias.status_code == 201, alias.text


LISTS = [
    "/conflicts?include_restored=true",
    "/connections",
    "/subscription/seats",
    "/users/{cm1}/tokens",
    "/users/{cm1}/aliases",
]


@pytest.mark.parametrize("path", LISTS)
async def test_list_is_paged_with_the_common_cap(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    path: str,
) -> None:
    await _seed(client, sessionmaker, firm_a)
    url = API + path.format(cm1=firm_a.cm1.id)
    joiner = "&" if "?" in url else "?"
    auth = firm_a.admin.auth
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await client.get(f"{url}{joiner}limit=2&offset={offset}", headers=auth)
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["total"], body["limit"], body["offset"]) == (THREE, 2, offset)
        assert len(body["items"]) == min(2, THREE - offset)
        seen += [str(item.get("id") or item.get("user_id")) for item in body["items"]]
        offset = body["next_offset"]
    assert len(set(seen)) == THREE  # every item once, in a stable order
    whole = (await client.get(url, headers=auth)).json()
    assert whole["limit"] == 50
    assert [str(i.get("id") or i.get("user_id")) for i in whole["items"]] == seen
    is_problem(await client.get(f"{url}{joiner}limit={MAX_LIMIT + 1}", headers=auth), 422)


async def test_open_conflicts_leave_restored_ones_out_of_the_total(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    await _seed(client, sessionmaker, firm_a)
    body = (await client.get(f"{API}/conflicts", headers=firm_a.admin.auth)).json()
    assert body["total"] == 2
    assert all(item["restored_at"] is None for item in body["items"])
    mine = (await client.get(f"{API}/conflicts", headers=firm_a.cm1.auth)).json()
    assert mine["total"] == 0  # cm1's only conflict is restored; others' are not theirs
