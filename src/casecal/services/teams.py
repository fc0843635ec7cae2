"""Team use cases: any member reads, firm admins manage."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.errors import Conflict
from casecal.services.access import Actor, require_admin
from casecal.services.entries import assign, commit
from casecal.services.lookups import get_in_firm
from casecal.services.paging import Page, fetch_page
from casecal.store.tables import Team


async def list_teams(session: AsyncSession, actor: Actor, *, limit: int, offset: int) -> Page[Team]:
    query = select(Team).where(Team.firm_id == actor.firm_id)
    return await fetch_page(
        session, query, order_by=(Team.name, Team.id), limit=limit, offset=offset
    )


async def teams_by_name(session: AsyncSession, actor: Actor) -> list[Team]:
    """Every team of the actor's firm, by name (the settings page's choice of team)."""
    query = select(Team).where(Team.firm_id == actor.firm_id).order_by(Team.name)
    return list((await session.scalars(query)).all())


async def get_team(session: AsyncSession, actor: Actor, team_id: uuid.UUID) -> Team:
    return await get_in_firm(session, Team, team_id, actor.firm_id)


async def _name_free(
    session: AsyncSession, actor: Actor, name: str, except_id: uuid.UUID | None
) -> None:
    query = select(func.count()).where(Team.firm_id == actor.firm_id, Team.name == name)
    if except_id is not None:
        query = query.where(Team.id != except_id)
    if (await session.execute(query)).scalar_one():
        raise Conflict(f"a team named {name!r} exists already", field="name")


async def create_team(session: AsyncSession, actor: Actor, data: Mapping[str, Any]) -> Team:
    require_admin(actor, "create teams")
    await _name_free(session, actor, data["name"], None)
    team = Team(id=uuid.uuid4(), firm_id=actor.firm_id, name=data["name"])
    session.add(team)
    await commit(session)
    return team


async def update_team(
    session: AsyncSession, actor: Actor, team_id: uuid.UUID, data: Mapping[str, Any]
) -> Team:
    team = await get_team(session, actor, team_id)
    require_admin(actor, "change teams")
    if "name" in data:
        await _name_free(session, actor, data["name"], team.id)
    assign(team, dict(data))
    await commit(session)
    return team


async def delete_team(session: AsyncSession, actor: Actor, team_id: uuid.UUID) -> None:
    """Delete a team; its members stay, without a team."""
    team = await get_team(session, actor, team_id)
    require_admin(actor, "delete teams")
    await session.delete(team)
    await commit(session)
