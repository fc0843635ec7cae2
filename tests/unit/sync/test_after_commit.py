"""The after-commit listener both commit hooks share: work noted in a transaction starts
only once it commits, is dropped with a rollback, can decline (None), and a failure is
logged under the hook's own message instead of escaping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from casecal.sync.after_commit import AfterCommit
from casecal.sync.kicks import session_class

KEY = "test_after_commit_noted"


@pytest.fixture
async def sessionmaker() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        yield async_sessionmaker(engine, sync_session_class=session_class())
    finally:
        await engine.dispose()


class Recorder:
    def __init__(self, *, fail: bool = False) -> None:
        self.started: list[Any] = []
        self.ran: list[Any] = []
        self.fail = fail

    def start(self, noted: Any) -> Any:
        self.started.append(noted)
        if noted == "skip":
            return None
        return self._work(noted)

    async def _work(self, noted: Any) -> None:
        if self.fail:
            raise RuntimeError("provider down")
        self.ran.append(noted)


async def _note_and_end(
    sessionmaker: async_sessionmaker[AsyncSession], noted: Any, *, commit: bool
) -> None:
    async with sessionmaker() as session:
        await session.execute(text("select 1"))
        session.info[KEY] = noted
        await (session.commit() if commit else session.rollback())


async def test_the_noted_work_runs_after_the_commit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    recorder = Recorder()
    hook = AfterCommit(sessionmaker, KEY, recorder.start, "test work failed")
    await _note_and_end(sessionmaker, {"a"}, commit=True)
    await hook.settle()
    assert recorder.ran == [{"a"}]


async def test_a_rollback_drops_what_was_noted(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    recorder = Recorder()
    hook = AfterCommit(sessionmaker, KEY, recorder.start, "test work failed")
    await _note_and_end(sessionmaker, {"lost"}, commit=False)
    async with sessionmaker() as session:  # a later commit does not see the dropped note
        await session.execute(text("select 1"))
        assert KEY not in session.info
        await session.commit()
    await hook.settle()
    assert recorder.started == []
    assert recorder.ran == []


async def test_none_from_the_factory_starts_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    recorder = Recorder()
    hook = AfterCommit(sessionmaker, KEY, recorder.start, "test work failed")
    await _note_and_end(sessionmaker, "skip", commit=True)
    assert recorder.started == ["skip"]
    assert not hook._tasks
    assert recorder.ran == []


async def test_a_failure_is_logged_with_the_hooks_message(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    hook = AfterCommit(sessionmaker, KEY, Recorder(fail=True).start, "test work failed")
    with capture_logs() as logs:
        await _note_and_end(sessionmaker, {"b"}, commit=True)
        await hook.settle()
    failed = [entry for entry in logs if entry["event"] == "test work failed"]
    assert len(failed) == 1
    assert "provider down" in failed[0]["error"]


def test_the_plain_session_class_is_refused() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    with pytest.raises(TypeError):
        AfterCommit(async_sessionmaker(engine, sync_session_class=Session), KEY, print, "x")
    with pytest.raises(TypeError):
        AfterCommit(async_sessionmaker(engine), KEY, print, "x")
