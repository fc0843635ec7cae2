"""The push settles its entries a window and a batch at a time: the links and rows of many
entries read in a query each, the links of a batch saved and its outbox rows acknowledged in a
statement each; so a push sends a few statements per batch, not several per entry. The
outbox keeps its meaning: only the versions acted on are acknowledged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sync_world import World

from casecal.store.tables import EntryKind, OutboxOp, OutboxRow
from casecal.sync.act import ack_many
from casecal.sync.engine import SyncEngine
from casecal.sync.pass_context import Pass

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


async def _appointments(world: World, n: int) -> list[str]:
    ids = []
    for i in range(n):
        start = SOON + timedelta(hours=i)
        body = {"title": f"Meeting {i}", "start_at": start.isoformat(),
                "end_at": (start + timedelta(minutes=30)).isoformat(),
                "time_zone": "America/New_York"}  # fmt: skip
        ids.append((await world.post("/appointments", body))["id"])
    return ids


@contextmanager
def _statements(world: World) -> Iterator[list[str]]:
    """The SQL statements sent meanwhile (an executemany counts once: one round trip)."""
    bind = world.app.state.sessionmaker.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(bind.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(bind.sync_engine, "before_cursor_execute", count)


async def _pending(world: World) -> list[tuple[str, int]]:
    async with world.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxRow.entry_id, OutboxRow.entry_version)
            .where(OutboxRow.processed_at.is_(None))
            .order_by(OutboxRow.id)
        )
        return [(str(e), v) for e, v in rows.all()]


async def test_a_push_sends_a_few_statements_per_batch_not_per_entry(world: World) -> None:
    entries = 60
    await _appointments(world, entries)
    with _statements(world) as push:
        report = await world.sync()
    assert report.outcome == "ok", report.error
    assert len(world.titles()) == entries
    assert len(await world.links()) == entries
    assert await _pending(world) == []
    with _statements(world) as idle:  # the echo of the push: the fixed part of a pass
        assert (await world.sync()).outcome == "ok"
    provider = await world.engine.provider_for(await world.connection())
    batches = -(-entries // provider.capabilities.max_batch_size)
    # Per batch: the links' INSERT and the outbox's UPDATE (and the commit's own, if any);
    # per window of entries read ahead: the links, the rows; once: the work's queries.
    extra = len(push) - len(idle)
    assert extra <= 3 * batches + 12, (extra, push)
    # The statements that used to go once per entry (a link and a row read, a link
    # inserted, the outbox updated) go once per batch or window.
    per_entry = [
        s for s in push
        if s.startswith(("INSERT INTO links", "UPDATE outbox"))
        or (s.startswith("SELECT") and " FROM links" in s and "entry_id" in s.split("WHERE")[-1])
        or (s.startswith("SELECT") and " FROM appointments" in s and ".id IN" in s)
    ]  # fmt: skip
    assert len(per_entry) <= 2 * batches + 2, per_entry


async def test_an_edit_saved_while_a_batch_is_in_flight_stays_pending(world: World) -> None:
    """An entry read ahead and then edited before its batch came back is written as read;
    its newer version's outbox row stays pending and the next pass writes it."""
    ids = await _appointments(world, 5)
    provider = await world.engine.provider_for(await world.connection())

    class EditsWhileWriting:
        """The real adapter; the user saves a new title while the batch is in flight."""

        def __init__(self) -> None:
            self.capabilities = provider.capabilities

        def __getattr__(self, name: str) -> Any:
            return getattr(provider, name)

        async def write_batch(self, *args: Any, **kwargs: Any) -> Any:
            await world.patch(f"/appointments/{ids[2]}", {"title": "Edited meanwhile"})
            return await provider.write_batch(*args, **kwargs)

    async def racing(_connection: Any) -> Any:
        return EditsWhileWriting()

    racy = SyncEngine(world.app.state.sessionmaker, racing, base_url="http://testserver")
    assert (await racy.run_pass(world.firm_id, world.connection_id)).outcome == "ok"
    assert "Meeting 2" in world.titles()
    assert await _pending(world) == [(ids[2], 2)]
    assert (await world.sync()).outcome == "ok"
    assert world.titles() == sorted(["Meeting 0", "Meeting 1", "Edited meanwhile",
                                     "Meeting 3", "Meeting 4"])  # fmt: skip
    assert await _pending(world) == []


async def test_changes_that_change_nothing_are_acknowledged_without_a_write(
    world: World,
) -> None:
    """Entries whose outbox rows name no change of their event (a row of the version
    already synced, as a repeated notice leaves it) are acknowledged together when read,
    and nothing goes out."""
    ids = await _appointments(world, 6)
    assert (await world.sync()).outcome == "ok"
    assert (await world.sync()).outcome == "ok"  # the echo
    async with world.app.state.sessionmaker() as session, session.begin():
        for entry_id in ids:
            session.add(OutboxRow(firm_id=world.firm_id, user_id=world.user_id,
                                  entry_kind=EntryKind.APPOINTMENT,
                                  entry_id=uuid.UUID(entry_id), entry_version=1,
                                  operation=OutboxOp.UPDATED))  # fmt: skip
    assert len(await _pending(world)) == len(ids)
    world.remote.log.clear()
    report = await world.sync()
    assert report.outcome == "ok", report.error
    assert report.counts.get("out", {}) == {}, report.counts
    assert [e.method for e in world.remote.log.entries] == ["GET"], world.remote.log.entries
    assert await _pending(world) == []


async def test_ack_many_acknowledges_each_entry_up_to_its_own_version(world: World) -> None:
    """One statement per kind; each entry's rows up to the version acted on, all of an entry
    acted on without one, none of another user's or another kind's."""
    maker = world.app.state.sessionmaker
    a, b, c, other = (uuid.uuid4() for _ in range(4))
    rows = [
        (EntryKind.APPOINTMENT, a, 1), (EntryKind.APPOINTMENT, a, 2),
        (EntryKind.APPOINTMENT, a, 3), (EntryKind.APPOINTMENT, b, 1),
        (EntryKind.APPOINTMENT, b, 4), (EntryKind.COURT_DATE, c, 2),
        (EntryKind.COURT_DATE, c, 5), (EntryKind.APPOINTMENT, other, 1),
        (EntryKind.INTERVIEW, a, 1),
    ]  # fmt: skip
    async with maker() as session, session.begin():
        for kind, entry_id, version in rows:
            session.add(OutboxRow(firm_id=world.firm_id, user_id=world.user_id,
                                  entry_kind=kind, entry_id=entry_id, entry_version=version,
                                  operation=OutboxOp.UPDATED))  # fmt: skip
    p = Pass(maker, "http://testserver", world.connection_id, world.firm_id)
    connection = await world.connection()
    acks = [(EntryKind.APPOINTMENT, a, 2), (EntryKind.APPOINTMENT, b, None),
            (EntryKind.COURT_DATE, c, 2)]  # fmt: skip
    with _statements(world) as sent:
        async with maker() as session:
            await ack_many(p, session, connection, acks)
            await session.commit()
    assert len([s for s in sent if s.startswith("UPDATE outbox")]) == 2  # one per kind
    async with maker() as session:
        left = await session.execute(
            select(OutboxRow.entry_kind, OutboxRow.entry_id, OutboxRow.entry_version).where(
                OutboxRow.processed_at.is_(None)
            )
        )
        pending = sorted((k.value, str(e), v) for k, e, v in left.all())
    assert pending == sorted([
        ("appointment", str(a), 3), ("court_date", str(c), 5),
        ("appointment", str(other), 1), ("interview", str(a), 1),
    ])  # fmt: skip
