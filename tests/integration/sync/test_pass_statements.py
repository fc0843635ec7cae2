"""The fixed work of a pass: it reads its connection, firm, cursor, entitlement and settings
once (one statement); it inserts its run (shown running, committed before the pass goes on),
stores the cursor its round settled (the columns that changed) and ends the run in one
transaction with the last sync; a no-op pass sends no more statements than that, its
change-feed and outbox reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_world import World

from casecal.errors import NotFound
from casecal.providers.base import Provider
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    ProviderName,
    Seat,
    Subscription,
    SubscriptionStatus,
    SyncCursor,
    SyncRun,
)
from casecal.sync.engine import SyncEngine
from casecal.sync.outcomes import PassOutcome

NO_OP_BUDGET = 6
"""The basis (with the settings), the run's insert, the cursor the round settled (when the
feed gave a new one), the outbox, and the run's end: the run and the connection's last sync.
The linked ids (the change feed's ``known``) are read only for a page that lists something."""

LOCK = ("pg_try_advisory_lock", "pg_advisory_unlock")
"""The statements of PostgreSQL's connection lock (not a pass's own work)."""


@contextmanager
def sent(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if not any(name in statement for name in LOCK):
            statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def bind(world: World) -> AsyncEngine:
    engine = world.app.state.sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


async def test_a_no_op_pass_sends_a_fixed_few_statements(world: World) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    end = soon + timedelta(hours=1)
    body = {"title": "Intake", "start_at": soon.isoformat(), "end_at": end.isoformat(),
            "time_zone": "America/New_York"}  # fmt: skip
    await world.post("/appointments", body)
    for _ in range(3):  # the push, then the passes that read back its echo
        assert (await world.sync()).outcome == "ok"
    with sent(bind(world)) as statements:
        report = await world.sync()
    assert report.outcome == "ok", report.error
    assert len(statements) <= NO_OP_BUDGET, "\n".join(statements)
    basis = [s for s in statements if s.startswith("SELECT") and "FROM connections" in s]
    assert len(basis) == 1  # the connection, read once ...
    for table in ("firms", "sync_cursors", "subscriptions", "seats"):
        reads = [s for s in statements if s.startswith("SELECT") and f" {table}" in s]
        assert reads == basis, table  # ... with its firm, cursor and entitlement
    writes = [s for s in statements if not s.startswith("SELECT")]
    assert sum(s.startswith("INSERT INTO sync_runs") for s in writes) == 1
    assert sum(s.startswith("UPDATE sync_runs") for s in writes) == 1
    assert not [s for s in statements if "FROM links" in s]  # nothing changed: no link read


async def test_a_pass_that_hears_of_a_change_reads_the_linked_ids_once(world: World) -> None:
    """Graph needs the linked ids to skip the tag reads of its own events; Google never."""
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    end = soon + timedelta(hours=1)
    body = {"title": "Intake", "start_at": soon.isoformat(), "end_at": end.isoformat(),
            "time_zone": "America/New_York"}  # fmt: skip
    await world.post("/appointments", body)
    for _ in range(3):
        assert (await world.sync()).outcome == "ok"
    (link,) = await world.links()
    world.remote.retitle(link.remote_id, "Intake (moved)")
    with sent(bind(world)) as statements:
        report = await world.sync()
    assert report.outcome == "ok", report.error
    assert [a["title"] for a in await world.appointments()] == ["Intake (moved)"]
    ids = [s for s in statements if s.startswith("SELECT links.remote_id, links.tombstoned_at")]
    assert len(ids) == (1 if world.remote.name == "microsoft" else 0), "\n".join(statements)


async def test_the_run_shows_running_during_the_pass_and_its_end_after(world: World) -> None:
    seen: list[tuple[str, object]] = []

    async def provider_for(connection: Connection) -> Provider:
        async with world.app.state.sessionmaker() as session:
            run = await session.scalar(
                select(SyncRun).where(SyncRun.connection_id == connection.id)
            )
            assert run is not None
            seen.append((run.outcome, run.finished_at))
        return await world.engine.provider_for(connection)

    engine = SyncEngine(world.app.state.sessionmaker, provider_for, base_url="http://testserver")
    report = await engine.run_pass(world.firm_id, world.connection_id)
    assert report.outcome == "ok", report.error
    assert seen == [("running", None)]
    async with world.app.state.sessionmaker() as session:
        run = await session.get(SyncRun, report.run_id)
        assert run is not None
        assert (run.outcome, run.finished_at is not None) == ("ok", True)
        connection = await session.get(Connection, world.connection_id)
        assert connection is not None
        assert connection.last_sync_at is not None
        cursor = await session.get(SyncCursor, world.connection_id)
        assert cursor is not None
        assert (cursor.synced_version, cursor.settings_digest != "") == (cursor.version, True)


async def test_a_pass_of_another_firms_connection_is_refused(world: World) -> None:
    with pytest.raises(NotFound, match="no such connection"):
        await world.engine.run_pass(uuid.uuid4(), world.connection_id)
    async with world.app.state.sessionmaker() as session:
        assert (await session.scalars(select(SyncRun))).all() == []


async def test_the_entitlement_read_with_the_connection_is_its_own_firms(world: World) -> None:
    """Another firm's subscription (stored first) neither lends nor takes the seat."""
    async with world.app.state.sessionmaker() as session:
        other = await create_firm(
            session, name="Other Firm", admin_email="admin@other.example", admin_name="Other"
        )
    async with world.app.state.sessionmaker() as session, session.begin():
        session.add(Subscription(firm_id=other.firm_id, status=SubscriptionStatus.ACTIVE))
        session.add(
            Connection(
                firm_id=other.firm_id, user_id=other.admin_user_id, provider=ProviderName.GOOGLE,
                status=ConnectionStatus.ACTIVE, account_email="admin@other.example",
            )
        )  # fmt: skip
    async with world.app.state.sessionmaker() as session, session.begin():
        own = Subscription(firm_id=world.firm_id, status=SubscriptionStatus.ACTIVE)
        session.add(own)
        await session.flush()
        session.add(Seat(firm_id=world.firm_id, subscription_id=own.id, user_id=world.user_id))
    assert (await world.sync()).outcome == "ok"
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(delete(Seat))
        theirs = await session.scalar(
            select(Subscription.id).where(Subscription.firm_id == other.firm_id)
        )
        assert theirs is not None
        session.add(Seat(firm_id=other.firm_id, subscription_id=theirs, user_id=world.user_id))
    report = await world.sync()
    assert report.outcome == PassOutcome.skipped(ConnectionStatus.PAUSED_NO_SEAT)
