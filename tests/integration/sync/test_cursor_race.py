"""Two passes of one connection that no lock spans (SQLite and a second process) both find no
cursor row and both create it: the later one must not fail on the primary key (it did, and a
pass then ended in an IntegrityError instead of syncing)."""

from __future__ import annotations

from typing import Any

import pytest
from sync_world import World

from casecal.store.tables import SyncCursor
from casecal.sync.cursors import ensure_cursor


async def test_a_cursor_created_meanwhile_by_another_pass_is_taken_not_inserted_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessionmaker = world.app.state.sessionmaker
    async with sessionmaker() as other:
        created = await ensure_cursor(other, world.connection_id, world.firm_id)
        created.cursor = "token-from-the-other-pass"
        await other.commit()
    async with sessionmaker() as late:
        real_get = late.get
        reads: list[object] = []

        async def read_before_the_other_pass_committed(*args: Any, **kwargs: Any) -> Any:
            reads.append(args)
            if len(reads) == 1:
                return None  # this pass looked before the other one's row was committed
            return await real_get(*args, **kwargs)

        monkeypatch.setattr(late, "get", read_before_the_other_pass_committed)
        row = await ensure_cursor(late, world.connection_id, world.firm_id)
        assert row.connection_id == world.connection_id
        assert row.cursor == "token-from-the-other-pass"  # the other pass's row, kept
        assert len(reads) == 2


async def test_a_pass_after_the_cursor_exists_keeps_it(world: World) -> None:
    report = await world.sync()
    assert report.outcome == "ok", report.error
    async with world.app.state.sessionmaker() as session:
        row = await session.get(SyncCursor, world.connection_id)
        assert row is not None
        first = row.cursor
        again = await ensure_cursor(session, world.connection_id, world.firm_id)
        assert again.cursor == first
