"""``providers.allowed``: the Calendar Sync page offers only the providers a user may connect,
and the connect flow refuses any other with a message the page shows (a team's lock binds its
members; someone outside the team keeps the firm's choice)."""

from __future__ import annotations

import re

import pytest
from connect_world import World
from sqlalchemy import select, update

from casecal.domain.settings_catalog import Level
from casecal.errors import PermissionDenied
from casecal.services.connect import start_connect
from casecal.services.firm_settings import Scope, set_value
from casecal.store.tables import Connection, ProviderName, Team, User

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_BUTTON = 'name="provider" value="{}"'


async def _only_google_for_anns_team(world: World) -> None:
    """Ann's team may connect Google only (locked); Bob has no team."""
    async with world.app.state.sessionmaker() as session:
        team = Team(firm_id=world.firm_id, name="Asylum")
        session.add(team)
        await session.flush()
        await session.execute(
            update(User).where(User.id == world.users["ann"].id).values(team_id=team.id)
        )
        await set_value(session, world.actor("admin"), Scope(Level.TEAM, team.id, team_id=team.id),
                        "providers.allowed", ["google"], locked=True)  # fmt: skip


async def test_a_provider_not_allowed_is_neither_offered_nor_connected(world: World) -> None:
    await _only_google_for_anns_team(world)
    cookie = {"Cookie": f"casecal_session={world.cookies['ann']}"}
    page = await world.web.get("/calendar-sync", headers=cookie)
    assert page.status_code == 200
    assert _BUTTON.format("google") in page.text
    assert _BUTTON.format("microsoft") not in page.text

    csrf = _CSRF.search(page.text)
    assert csrf is not None
    refused = await world.web.post(
        "/calendar-sync/connect",
        data={"csrf_token": csrf.group(1), "provider": "microsoft"},
        headers=cookie,
    )
    assert refused.status_code == 403
    assert "does not allow Microsoft calendars to be connected" in refused.text
    assert "connect a Google calendar instead" in refused.text
    async with world.app.state.sessionmaker() as session:
        with pytest.raises(PermissionDenied):
            await start_connect(
                session, world.settings, world.actor("ann"), ProviderName.MICROSOFT,
                browser_binding=world.binding("ann"),
            )  # fmt: skip
        mine = select(Connection).where(Connection.user_id == world.users["ann"].id)
        assert (await session.scalars(mine)).all() == []  # nothing pending was made

    # Google is still allowed to Ann, and Bob (in no team) may still connect either.
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor("ann"), ProviderName.GOOGLE,
            browser_binding=world.binding("ann"),
        )  # fmt: skip
    assert url.startswith("http")
    bobs = await world.web.get(
        "/calendar-sync", headers={"Cookie": f"casecal_session={world.cookies['bob']}"}
    )
    assert _BUTTON.format("microsoft") in bobs.text
    assert _BUTTON.format("google") in bobs.text
