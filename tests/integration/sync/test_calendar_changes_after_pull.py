"""An open calendar page learns of a remote edit: the version ``/calendar/changes`` answers
stays put until a sync pass has pulled the edit from Google or Outlook, and moves then (for a
new event, a retitled one and a deleted one)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sync_world import EMAIL, World
from tests.integration.ui.conftest import PASSWORD_HASH, signed_in_page

from casecal.store.tables import User

_VERSION = re.compile(r'data-version="([0-9a-f]{20})"')


def _at(hours: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=1, hours=hours)


async def _version_shown(world: World) -> str:
    async with world.app.state.sessionmaker() as session, session.begin():
        user = await session.scalar(select(User).where(User.email == EMAIL))
        assert user is not None
        user.password_hash = PASSWORD_HASH
    page = await signed_in_page(world.api, EMAIL, "/calendar")
    found = _VERSION.search(page.text)
    assert found
    return found.group(1)


async def _changed(world: World, since: str) -> tuple[bool, str]:
    answer = await world.api.get("/calendar/changes", params={"since": since})
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["changed"]), str(answer.json()["version"])


async def test_the_version_moves_after_a_pull_not_before(world: World) -> None:
    await world.sync()
    version = await _version_shown(world)
    event_id = world.remote.insert("Lunch with co-counsel", _at(5), _at(6))
    assert await _changed(world, version) == (False, version)  # not pulled yet
    await world.sync()
    changed, version = await _changed(world, version)
    assert changed
    page = await world.api.get("/calendar")
    assert "Lunch with co-counsel" in page.text
    assert f'data-version="{version}"' in page.text

    world.remote.retitle(event_id, "Lunch moved to Friday")
    assert await _changed(world, version) == (False, version)
    await world.sync()
    changed, version = await _changed(world, version)
    assert changed

    world.remote.delete(event_id)
    await world.sync()
    changed, version = await _changed(world, version)
    assert changed
    assert await _changed(world, version) == (False, version)  # and no redraw loop after
