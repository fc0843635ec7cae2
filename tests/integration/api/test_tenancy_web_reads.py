"""The services the pages read through answer within the actor's firm only: another firm's
teams, user names and users are left out or missing, and a forged actor changes nothing there."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld

from casecal.errors import NotFound
from casecal.services.access import Actor
from casecal.services.sign_in import signed_in_user
from casecal.services.teams import teams_by_name
from casecal.services.users import own_zone, set_own_zone, user_names
from casecal.store.tables import Role, User


def _admin(firm: FirmWorld) -> Actor:
    return Actor(uuid.UUID(firm.admin.id), uuid.UUID(firm.id), Role.FIRM_ADMIN)


async def test_page_reads_stay_in_the_actors_firm(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    firm_b: FirmWorld,
) -> None:
    for firm, names in ((firm_a, ("Zeta", "Alpha")), (firm_b, ("Bravo team",))):
        for name in names:
            made = await client.post(f"{API}/teams", json={"name": name}, headers=firm.admin.auth)
            assert made.status_code == 201, made.text
    a_cm1, b_cm1 = uuid.UUID(firm_a.cm1.id), uuid.UUID(firm_b.cm1.id)
    async with sessionmaker() as session:
        assert [t.name for t in await teams_by_name(session, _admin(firm_a))] == ["Alpha", "Zeta"]
        assert await user_names(session, uuid.UUID(firm_a.id), [a_cm1, b_cm1, None]) == {
            a_cm1: "cm1"
        }
        assert (await signed_in_user(session, a_cm1, uuid.UUID(firm_a.id))).id == a_cm1
        with pytest.raises(NotFound):
            await signed_in_user(session, b_cm1, uuid.UUID(firm_a.id))


async def test_a_forged_actor_neither_reads_nor_sets_another_firms_zone(
    sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld, firm_b: FirmWorld
) -> None:
    b_cm1 = uuid.UUID(firm_b.cm1.id)
    forged = Actor(b_cm1, uuid.UUID(firm_a.id), Role.CASE_MANAGER)  # B's user, A's firm
    async with sessionmaker() as session:
        await set_own_zone(session, _admin(firm_b), "Europe/Paris")  # B's admin's own zone
        user = await session.get(User, b_cm1)
        assert user is not None
        user.time_zone = "Asia/Tokyo"
        await session.commit()
    async with sessionmaker() as session:
        assert (await own_zone(session, forged)).chosen is None
        await set_own_zone(session, forged, "America/Chicago")
    async with sessionmaker() as session:
        user = await session.get(User, b_cm1)
        assert user is not None
        assert user.time_zone == "Asia/Tokyo"
        assert (await own_zone(session, _admin(firm_b))).chosen == "Europe/Paris"
