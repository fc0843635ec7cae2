"""Tenancy within a firm: who sees which appointment, on every appointment route. The matrix
is roles x origin x case x private x shared; the expectation is written out here (not read
from the rule under test)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld, Member, is_problem

from casecal.store.tables import (
    Appointment,
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    ProviderName,
)

START = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
WINDOW = {"start": "2026-05-01T00:00:00Z", "end": "2026-06-01T00:00:00Z", "limit": 200}
COMBOS = list(itertools.product(["host", "remote"], [True, False], [True, False], [True, False]))
"""(origin, with a case, private, shared) for every appointment cm1 owns."""


def _title(origin: str, case: bool, private: bool, shared: bool) -> str:
    return f"{origin}|case={case}|private={private}|shared={shared}"


def expected(role: str, origin: str, case: bool, private: bool, shared: bool) -> str:
    """``full``, ``busy`` or ``hidden``, for a viewer who is not the owner unless ``owner``."""
    if role == "owner":
        return "full"
    if origin == "remote" and not case and not shared:
        return "busy" if role == "admin" else "hidden"
    return "busy" if private else "full"


async def _seed(sessionmaker: async_sessionmaker[AsyncSession], firm: FirmWorld) -> dict[str, str]:
    """Sixteen appointments of cm1, one per combination, with details to leak."""
    ids: dict[str, str] = {}
    async with sessionmaker() as session, session.begin():
        for n, (origin, case, private, shared) in enumerate(COMBOS):
            start = START + timedelta(days=n)
            row = Appointment(
                id=uuid.uuid4(), firm_id=uuid.UUID(firm.id), owner_id=uuid.UUID(firm.cm1.id),
                case_id=uuid.UUID(firm.case_id) if case else None,
                title=_title(origin, case, private, shared), notes="secret notes",
                location="secret place", attendees=[{"email": "x@client.test", "name": "X"}],
                start_at=start, end_at=start + timedelta(hours=1), starts_at=start,
                ends_at=start + timedelta(hours=1), time_zone="UTC", private=private,
                shared=shared, origin=origin, version=1,
            )  # fmt: skip
            session.add(row)
            ids[row.title] = str(row.id)
    return ids


def _seen(item: dict[str, Any]) -> str:
    if item["busy_block"]:
        assert item["title"] == "Busy"
        assert (item["notes"], item["location"], item["attendees"]) == ("", "", [])
        assert item["case_id"] is None
        return "busy"
    assert item["notes"] == "secret notes"
    return "full"


async def test_visibility_matrix_on_list_and_get(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    ids = await _seed(sessionmaker, firm_a)
    by_id = {v: k for k, v in ids.items()}
    viewers: dict[str, Member] = {
        "owner": firm_a.cm1, "admin": firm_a.admin, "other": firm_a.cm2, "staff": firm_a.staff,
    }  # fmt: skip
    for role, member in viewers.items():
        listed = await client.get(f"{API}/appointments", params=WINDOW, headers=member.auth)
        assert listed.status_code == 200, listed.text
        body = listed.json()
        got = {by_id[item["id"]]: _seen(item) for item in body["items"]}
        want = {_title(*c): expected(role, *c) for c in COMBOS}
        assert got == {k: v for k, v in want.items() if v != "hidden"}, role
        assert body["total"] == len(got), role
        for combo in COMBOS:
            one = await client.get(f"{API}/appointments/{ids[_title(*combo)]}", headers=member.auth)
            if expected(role, *combo) == "hidden":
                is_problem(one, 404)
            else:
                assert one.status_code == 200, one.text
                assert _seen(one.json()) == expected(role, *combo), (role, combo)


async def test_busy_blocks_and_hidden_entries_cannot_be_changed(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    ids = await _seed(sessionmaker, firm_a)
    personal = ids[_title("remote", False, False, False)]
    private = ids[_title("host", True, True, False)]
    admin = firm_a.admin.auth
    url = f"{API}/appointments"
    is_problem(await client.patch(f"{url}/{personal}", json={"title": "x"}, headers=admin), 403)
    is_problem(await client.patch(f"{url}/{private}", json={"title": "x"}, headers=admin), 403)
    is_problem(await client.delete(f"{url}/{personal}", headers=admin), 403)
    is_problem(await client.delete(f"{url}/{personal}", headers=firm_a.cm2.auth), 404)
    is_problem(await client.post(f"{url}/{personal}/share", headers=firm_a.cm2.auth), 404)
    owner = await client.get(f"{url}/{personal}", headers=firm_a.cm1.auth)
    assert owner.json()["title"] == _title("remote", False, False, False)


async def test_the_owner_shares_and_unshares_an_import(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    ids = await _seed(sessionmaker, firm_a)
    personal = ids[_title("remote", False, False, False)]
    made_here = ids[_title("host", False, False, False)]
    url = f"{API}/appointments"
    is_problem(await client.post(f"{url}/{personal}/share", headers=firm_a.admin.auth), 403)
    is_problem(await client.post(f"{url}/{made_here}/share", headers=firm_a.cm1.auth), 409)
    shared = await client.post(f"{url}/{personal}/share", headers=firm_a.cm1.auth)
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared"] is True
    seen = await client.get(f"{url}/{personal}", headers=firm_a.cm2.auth)
    assert seen.status_code == 200
    assert seen.json()["notes"] == "secret notes"
    admin_view = await client.get(f"{url}/{personal}", headers=firm_a.admin.auth)
    assert admin_view.json()["busy_block"] is False
    back = await client.post(f"{url}/{personal}/unshare", headers=firm_a.cm1.auth)
    assert back.json()["shared"] is False
    is_problem(await client.get(f"{url}/{personal}", headers=firm_a.cm2.auth), 404)


async def test_conflicts_show_a_busy_block_of_what_the_admin_may_not_read(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    ids = await _seed(sessionmaker, firm_a)
    version = {"title": "Therapy", "description": "secret notes", "location": "secret place",
               "start": "2026-05-04T15:00:00+00:00", "end": "2026-05-04T16:00:00+00:00",
               "time_zone": "UTC"}  # fmt: skip
    async with sessionmaker() as session, session.begin():
        connection = Connection(
            firm_id=uuid.UUID(firm_a.id), user_id=uuid.UUID(firm_a.cm1.id),
            provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE, calendar_id="c",
        )  # fmt: skip
        session.add(connection)
        await session.flush()
        for combo in (("remote", False, False, False), ("host", True, False, False)):
            session.add(
                ConflictRecord(
                    firm_id=uuid.UUID(firm_a.id), connection_id=connection.id,
                    entry_kind=EntryKind.APPOINTMENT, entry_id=uuid.UUID(ids[_title(*combo)]),
                    winner="remote", winner_snapshot=version, loser_snapshot=version,
                )
            )  # fmt: skip
    admin = (await client.get(f"{API}/conflicts", headers=firm_a.admin.auth)).json()["items"]
    by_entry = {item["entry_id"]: item for item in admin}
    personal = by_entry[ids[_title("remote", False, False, False)]]
    for side in ("winner_snapshot", "loser_snapshot"):
        assert personal[side] == {"title": "Busy", "start": version["start"],
                                  "end": version["end"], "time_zone": "UTC"}  # fmt: skip
    firm_wide = by_entry[ids[_title("host", True, False, False)]]
    assert firm_wide["loser_snapshot"]["description"] == "secret notes"
    owner = (await client.get(f"{API}/conflicts", headers=firm_a.cm1.auth)).json()["items"]
    assert {item["loser_snapshot"]["title"] for item in owner} == {"Therapy"}
