"""Many connections under a steady change rate: C connections (each its own case manager and
emulated account) with E linked events each, then a steady stream of single changes at R
changes/s for S seconds, spread over random connections, served by the real embedded
``Scheduler`` (8 workers, one pass per connection at a time, triggers collapsed).

Seeding is not timed: the accounts come from the emulators' ``/_emulator`` endpoints, the case
managers' appointments from the service layer, and the initial sync is the scheduler itself
(one kick per connection, then a second round that reads back the echoes of its own creates),
so every connection starts converged. Only then are the push channels opened: a Google watch
channel or Graph subscription per connection, pointing at the app's real receiver
(``/webhooks/<provider>``) served by this process over loopback.

The stream: change ``i`` starts at ``i / R`` seconds whether or not the earlier ones are done
(people and other clients do not wait for CaseCal; only edits of one event wait for each other,
in order), and the achieved rate is reported. Half the changes (at random) are host edits
through the service layer (``update_appointment``), after whose commit the scheduler is kicked,
as the app's outbox hook does (``casecal.sync.kicks.OutboxTrigger``); the other half are remote
edits made through the emulator as another
client, which the emulator announces to the receiver, which marks the connection dirty and
kicks the scheduler. Host edits only touch the even-numbered events of a connection and remote
edits the odd-numbered ones, so no edit can meet a concurrent edit from the other side: every
change must arrive. After the stream the section lasts until the scheduler has drained and no
pass started for a while (the echoes of the last writes arrive as notifications too); the wall
time ends with the last pass (or the last edit's answer, if later).

Measured:

- **latency** of a change: from the start of the edit to the end of the first successful pass
  of its connection that started after the edit took effect: for a host edit, after its
  commit (the pass reads the outbox later); for a remote edit, after the edit was sent (the
  emulator applies it on arrival, and the pass reads the change feed later still; the answer
  to the edit can come much later, because the Google emulator answers an admin edit only once
  it has delivered every queued notification). An earlier pass may have carried the change
  already, so this is an upper bound. ``p50_ms`` and ``p99_ms``.
- **lost**: events whose final state (the remote event's title for a host edit, the host
  appointment's title for a remote edit, read once everything settled) is not their last
  change; must be 0. ``unserved``: changes with no successful pass after them.
  ``undelivered``: push notifications of the section the receiver did not accept in time
  (the Graph emulator gives up after 3 s, as Graph does); a change whose notification was
  lost waits for another trigger of its connection.
- **passes** the scheduler ran (echo passes included), ``failed`` passes among them.
- **rate**: changes per second the stream achieved (between the first and the last change's
  start; below R when this process was too busy to start them on time).
- **peak_rss_mb**: the process's peak resident size (the ``rss MB`` column is the growth over
  the section, which starts with the C connections already loaded).
- **seed_s**: the untimed set-up (accounts, appointments, initial sync, channels), which
  decides how large a fleet fits in a bench run.

Theoretical minimum (in the README's terms): the changes are grouped by the pass that carried
them (above). A group with H distinct host-edited events needs one change-feed read and its H
writes in batches of B: ``1 + ceil(H / B)``. Its remote edits need nothing more: they arrive in
that feed read, and on Graph their tags need no read either, since every edited event is linked
(the adapter reads the tags only of ids the connection does not know). A lone host change costs
2, a lone remote change 1, and coalescing lowers the minimum exactly as it lowers the work. Not
in the minimum: the pass a provider's notification of CaseCal's own write triggers (it reads
back the echo), and the pass a change kicked while an earlier pass already carried it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ctypes
import gc
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench import minimums
from bench.accounts import Counter, RemoteAccount
from bench.emulator import Admin
from bench.host import BASE_URL
from bench.measure import Meter, current_rss_mb, peak_rss_mb
from bench.report import Sample, percentile
from bench.scenarios.webhook import receiver
from bench.workload import host_specs
from casecal.domain.event import CanonicalEvent
from casecal.domain.tags import Tag
from casecal.providers.base import Provider
from casecal.providers.google import codec as google_codec
from casecal.providers.msgraph import codec as graph_codec
from casecal.services import audit
from casecal.services.access import Actor
from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.firms import create_firm
from casecal.services.users import create_user, normalize_email
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade_async
from casecal.store.tables import (
    Appointment,
    Backfill,
    Connection,
    ConnectionStatus,
    EntryKind,
    Link,
    OutboxRow,
    ProviderName,
    Role,
    User,
)
from casecal.sync.channels import ChannelManager
from casecal.sync.engine import PassReport, SyncEngine
from casecal.sync.scheduler import Scheduler

SCENARIO = "fleet"
HOST_SHARE = 0.5
"""Share of the changes made on the host side; the rest are remote edits."""
SETUP_CONCURRENCY = 16
"""Accounts, adapters and channels set up at once (the emulators' process has its own core)."""
QUIET_S = 0.5
"""Settled: the scheduler is idle and no pass started for this long."""
STALL_S = 120.0
EDIT_ATTEMPTS = 5
ADMIN_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=64)
"""Remote edits are sent at once however many are in flight: the Google emulator answers an
admin edit only once it has delivered its notifications, which takes long when this process
is overloaded, and an edit queued in the client would not have happened yet."""
ADMIN_TIMEOUT = httpx.Timeout(600.0, connect=30.0)
T = TypeVar("T")


# -- the pieces ---------------------------------------------------------------------------


@dataclass
class Member:
    """One connection of the fleet: its emulated account, adapter, case manager and events
    (``entries[i]`` is linked to ``remote_ids[i]``)."""

    account: RemoteAccount
    provider: Provider
    manager: Actor
    connection_id: uuid.UUID
    entries: list[uuid.UUID] = field(default_factory=list)
    remote_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    number: int
    """Its place in the stream (the last number of an event is its final state)."""
    member: int
    event: int
    host: bool
    """A host edit (else a remote edit by another client)."""
    title: str
    made: float
    """When the edit started (``perf_counter``): the service call, or the request sent."""
    committed: float
    """When the edit returned: the host commit, or the emulator's answer."""


@dataclass(frozen=True, slots=True)
class PassRecord:
    started: float
    ended: float
    ok: bool


class Adapters:
    """Each connection's adapter: the provider factory of the engine and the channel manager."""

    def __init__(self, by_connection: dict[uuid.UUID, Provider]) -> None:
        self.by_connection = by_connection

    async def __call__(self, connection: Connection) -> Provider:
        return self.by_connection[connection.id]


class PassLog:
    """The scheduler's runner: the real engine, with each pass's start and end kept per
    connection (one pass per connection at a time, so each list is in start order)."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.passes: dict[uuid.UUID, list[PassRecord]] = defaultdict(list)
        self.started = self.finished = 0
        self.wrote: set[uuid.UUID] = set()
        """Connections whose last pass wrote to the remote calendar (an echo will follow)."""

    async def run_pass(
        self, firm_id: uuid.UUID, connection_id: uuid.UUID, *, trigger: str = "manual"
    ) -> PassReport:
        self.started += 1
        started, ok = time.perf_counter(), False
        try:
            report = await self.engine.run_pass(firm_id, connection_id, trigger=trigger)
            ok = report.outcome == "ok"
            if any(report.counts.get("out", {}).values()):
                self.wrote.add(connection_id)
            else:
                self.wrote.discard(connection_id)
            return report
        finally:
            self.passes[connection_id].append(PassRecord(started, time.perf_counter(), ok))
            self.finished += 1

    def clear(self) -> None:
        self.passes.clear()

    def all(self) -> list[PassRecord]:
        return [p for records in self.passes.values() for p in records]


def carrier(records: Sequence[PassRecord], since: float) -> int | None:
    """Index of the first successful pass that started at or after ``since``."""
    index = bisect.bisect_left([r.started for r in records], since)
    return next((i for i in range(index, len(records)) if records[i].ok), None)


async def gathered(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` at most ``SETUP_CONCURRENCY`` at a time, results in order."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


# -- the fleet ----------------------------------------------------------------------------


@dataclass
class Template:
    """What the first connection's real seeding left, for the others to copy (in entry
    order): its appointment and outbox rows as the service layer wrote them (before any
    pass), the canonical event of each entry's remote event as the engine wrote it, and the
    link rows the engine saved for them."""

    user_id: uuid.UUID
    appointments: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    events: list[CanonicalEvent]
    links: list[dict[str, Any]]

    def events_for(self, entries: Sequence[uuid.UUID]) -> list[CanonicalEvent]:
        """The remote events for a copy's ``entries``: the description's link back to the
        entry names the copy's entry (the rest is the same content)."""
        return [
            replace(event, description=event.description.replace(str(old["id"]), str(new)))
            for event, old, new in zip(self.events, self.appointments, entries, strict=True)
        ]


@dataclass
class Fleet:
    """CaseCal's side: one SQLite database, one firm, a case manager and active connection per
    member, the engine behind a ``PassLog`` and the embedded scheduler."""

    provider_name: str
    tmp: tempfile.TemporaryDirectory[str]
    db: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    firm_id: uuid.UUID
    admin: Actor
    members: list[Member]
    adapters: Adapters
    log: PassLog
    scheduler: Scheduler
    seeding: dict[str, float] = field(default_factory=dict)
    """How the seeding went: seconds per step, the adopting passes' requests."""

    @classmethod
    async def create(cls, provider_name: str, *, url: str | None = None) -> Fleet:
        tmp = tempfile.TemporaryDirectory(prefix="casecal-fleet-")
        url = url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'fleet.db'}"
        await upgrade_async(url)
        db = make_engine(url)
        sessionmaker = make_sessionmaker(db)
        async with sessionmaker() as session:
            firm = await create_firm(
                session, name="Fleet Firm", admin_email="admin@fleet.bench", admin_name="Admin"
            )
        admin = Actor(user_id=firm.admin_user_id, firm_id=firm.firm_id, role=Role.FIRM_ADMIN)
        adapters = Adapters({})
        log = PassLog(SyncEngine(sessionmaker, adapters, base_url=BASE_URL))
        scheduler = Scheduler(sessionmaker, log)
        return cls(
            provider_name, tmp, db, sessionmaker, firm.firm_id, admin, [], adapters, log,
            scheduler,
        )  # fmt: skip

    # -- seeding: one connection the real way, the others copied from it in bulk ----------

    async def add_template(self, account: RemoteAccount, adapter: Provider, events: int) -> None:
        """The first member, through the service layer (its user, ``events`` appointments)
        and the real engine (the push, then the pass that reads back its echoes)."""
        manager = await _manager(self.sessionmaker, self.admin, account)
        member = Member(account, adapter, manager, uuid.uuid4())
        await self._join([member])
        now = datetime.now(UTC)
        async with self.sessionmaker() as session:
            for spec in host_specs(events, now=now, seed=0):
                entry = await create_appointment(session, manager, spec.fields())
                member.entries.append(entry.id)
        await self.initial_sync([member])

    async def template(self) -> Template:
        """The first member's rows as the service layer wrote them (the outbox rows are
        copied unprocessed), and its remote events as the engine wrote them."""
        first = self.members[0]
        appointments, outbox = table_of(Appointment), table_of(OutboxRow)
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(appointments).where(appointments.c.id.in_(first.entries))
            )
            by_id = {row["id"]: dict(row) for row in rows.mappings()}
            queued = await session.execute(
                select(outbox).where(outbox.c.entry_id.in_(first.entries)).order_by(outbox.c.id)
            )
            outbox_rows = [
                {k: v for k, v in row.items() if k != "id"} | {"processed_at": None}
                for row in queued.mappings()
            ]
            linked = await session.execute(
                select(table_of(Link)).where(table_of(Link).c.connection_id == first.connection_id)
            )
            links = {row["entry_id"]: dict(row) for row in linked.mappings()}
        read = partial(first.provider.get_event, first.account.calendar_id)
        remote = await gathered([partial(read, rid) for rid in first.remote_ids])
        events = [r.event for r in remote if r.event is not None]
        if len(events) != len(first.entries):
            raise RuntimeError("a template event is missing on the remote calendar")
        template = Template(
            first.manager.user_id,
            [by_id[e] for e in first.entries],
            outbox_rows,
            events,
            [links[e] for e in first.entries],
        )
        for event, link in zip(template.events, template.links, strict=True):
            if not link["host_fingerprint"] == link["remote_fingerprint"] == event.fingerprint():
                raise RuntimeError("the template's sides differ: its links cannot be copied")
        return template

    async def add_copies(
        self,
        template: Template,
        accounts: Sequence[RemoteAccount],
        adapters: Sequence[Provider],
        connection_ids: Sequence[uuid.UUID],
        entry_ids: Sequence[Sequence[uuid.UUID]],
    ) -> list[Member]:
        """Members whose accounts already hold the remote events (seeded in bulk, tagged for
        ``connection_ids`` and ``entry_ids``, in entry order): their users, connections,
        appointments and outbox rows as the service layer would have written them, and the
        links a first pass would have saved (the template's, with this pair's ids, the etag
        the emulator answered and the fingerprint of the copy's event, the same on both
        sides), in a few bulk inserts (SQLAlchemy Core ``executemany``). Still to come:
        their cursors, which ``initial_sync``'s first pass saves."""
        members: list[Member] = []
        async with self.sessionmaker() as session, session.begin():
            for account, adapter, connection_id, entries in zip(
                accounts, adapters, connection_ids, entry_ids, strict=True
            ):
                user = User(
                    id=uuid.uuid4(), firm_id=self.firm_id, is_active=True,
                    email=normalize_email(account.email), name="Case Manager",
                    role=Role.CASE_MANAGER,
                )  # fmt: skip
                session.add(user)
                audit.record(session, self.firm_id, self.admin.user_id, "user.created",
                             str(user.id), {"role": str(user.role)})  # fmt: skip
                manager = Actor(user_id=user.id, firm_id=self.firm_id, role=Role.CASE_MANAGER)
                members.append(Member(account, adapter, manager, connection_id, list(entries)))
        await self._join(members)
        rows: list[dict[str, Any]] = []
        queued: list[dict[str, Any]] = []
        linked: list[dict[str, Any]] = []
        for member in members:
            new_id = dict(
                zip((r["id"] for r in template.appointments), member.entries, strict=True)
            )
            user_of = {template.user_id: member.manager.user_id}
            rows += [
                r | {"id": new_id[r["id"]], "owner_id": member.manager.user_id}
                for r in template.appointments
            ]
            queued += [
                o
                | {
                    "entry_id": new_id[o["entry_id"]],
                    "user_id": user_of.get(o["user_id"], o["user_id"]),
                }
                for o in template.outbox
            ]
            events = template.events_for(member.entries)
            for link, entry, event, made in zip(
                template.links, member.entries, events, member.account.seeded, strict=True
            ):
                fingerprint = event.fingerprint()
                linked.append(link | {
                    "id": uuid.uuid4(), "connection_id": member.connection_id,
                    "entry_id": entry, "remote_id": made["id"], "remote_etag": made["etag"],
                    "host_fingerprint": fingerprint, "remote_fingerprint": fingerprint,
                })  # fmt: skip
        async with self.sessionmaker() as session, session.begin():
            for chunk in _chunks(rows):
                await session.execute(insert(table_of(Appointment)), chunk)
            for chunk in _chunks(queued):
                await session.execute(insert(table_of(OutboxRow)), chunk)
            for chunk in _chunks(linked):
                await session.execute(insert(table_of(Link)), chunk)
        return members

    async def _join(self, members: Sequence[Member]) -> None:
        await _connect(self.sessionmaker, self.provider_name, self.firm_id, members)
        self.members += members
        self.adapters.by_connection |= {m.connection_id: m.provider for m in members}

    async def initial_sync(self, members: Sequence[Member]) -> None:
        """Sync ``members`` until settled (their first pass, then the pass that reads back
        the echoes of its writes, if it wrote), so the timed section starts in the steady
        state; then learn each entry's remote id from its link."""
        for member in members:
            await self.scheduler.kick(member.connection_id, trigger="seed")
        await self.settle()
        for member in members:
            if member.connection_id in self.log.wrote:
                await self.scheduler.kick(member.connection_id, trigger="seed-echo")
        await self.settle()
        if any(not p.ok for p in self.log.all()):
            raise RuntimeError("a seeding pass failed")
        ids = [m.connection_id for m in members]
        async with self.sessionmaker() as session:
            links = await session.execute(
                select(Link.connection_id, Link.entry_id, Link.remote_id).where(
                    Link.tombstoned_at.is_(None), Link.connection_id.in_(ids)
                )
            )
            remote = {(c, e): r for c, e, r in links.all()}
        for member in members:
            member.remote_ids = [remote[(member.connection_id, e)] for e in member.entries]

    async def settle(self) -> None:
        """Wait until the scheduler is idle and no pass started for ``QUIET_S`` (a provider's
        notification of the last write may still be on its way)."""
        while True:
            await self._drained()
            started = self.log.started
            await asyncio.sleep(QUIET_S)
            if self.log.started == started and self.scheduler.depth == 0:
                return

    async def _drained(self) -> None:
        """The scheduler idle; an error only when no pass finished for ``STALL_S`` (the
        initial sync of a large fleet takes many minutes, but never stands still)."""
        while True:
            finished = self.log.finished
            try:
                async with asyncio.timeout(STALL_S):
                    await self.scheduler.drain()
                return
            except TimeoutError:
                if self.log.finished == finished:
                    raise RuntimeError(f"no sync pass finished in {STALL_S:g} s") from None

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.db.dispose()
        self.tmp.cleanup()


def settled_rss_mb() -> float:
    """Resident size after a full collection and handing freed heap back (glibc)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return current_rss_mb()


def table_of(model: type[Any]) -> Table:
    return model.metadata.tables[model.__tablename__]  # type: ignore[no-any-return]


def _chunks(rows: list[dict[str, Any]], size: int = 2000) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def remote_body(provider: str, event: CanonicalEvent, tag: Tag) -> dict[str, Any]:
    """The body CaseCal's adapter writes for ``event`` created for ``tag``'s entry (Google
    with its client-chosen id, Graph with its ``transactionId``)."""
    if provider == "google":
        return google_codec.encode(event, tag, event_id=google_codec.event_id(tag))
    return graph_codec.encode_create(event, tag)


async def seed(
    admin: Admin,
    http: httpx.AsyncClient,
    counter: Counter,
    provider: str,
    connections: int,
    events: int,
    *,
    url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Fleet:
    """The fleet, converged: the first connection seeded the real way (about a second), the
    others copied from it in bulk (their remote events through ``/_emulator/bulk``, their
    rows and links with Core inserts), then one real pass each, a full round that finds
    everything in sync, writes nothing and saves the cursor (``fleet.seeding`` keeps the
    time of each step and the requests of those passes; a pass that wrote is an error)."""
    step = time.perf_counter()
    template_account = await RemoteAccount.create(provider, admin)
    fleet = await Fleet.create(provider, url=url)
    await fleet.scheduler.start()
    template_adapter = await template_account.adapter(http, clock=clock)
    await fleet.add_template(template_account, template_adapter, events)
    template = await fleet.template()
    fleet.seeding["template_rss_mb"] = settled_rss_mb()
    fleet.seeding["template_s"], step = time.perf_counter() - step, time.perf_counter()
    copies = connections - 1
    connection_ids = [uuid.uuid4() for _ in range(copies)]
    entry_ids = [[uuid.uuid4() for _ in range(events)] for _ in range(copies)]
    bodies = [
        [
            remote_body(provider, event, Tag(entry, EntryKind.APPOINTMENT, connection))
            for event, entry in zip(template.events_for(entries), entries, strict=True)
        ]
        for connection, entries in zip(connection_ids, entry_ids, strict=True)
    ]
    accounts = await RemoteAccount.create_many(provider, admin, bodies)
    del bodies
    adapters = await gathered([partial(a.adapter, http, clock=clock) for a in accounts])
    fleet.seeding["remote_s"], step = time.perf_counter() - step, time.perf_counter()
    members = await fleet.add_copies(template, accounts, adapters, connection_ids, entry_ids)
    fleet.seeding["host_s"], step = time.perf_counter() - step, time.perf_counter()
    before, passes = counter.sent, fleet.log.started
    await fleet.initial_sync(members)
    if fleet.log.wrote:
        raise RuntimeError("a copied connection's first pass wrote: the copy is not faithful")
    fleet.seeding |= {
        "link_s": time.perf_counter() - step,
        "link_passes": float(fleet.log.started - passes),
        "link_requests": float(counter.sent - before),
    }
    return fleet


async def _manager(
    sessionmaker: async_sessionmaker[AsyncSession], admin: Actor, account: RemoteAccount
) -> Actor:
    async with sessionmaker() as session:
        fields = {"email": account.email, "name": "Case Manager", "role": "case_manager"}
        return Actor.of(await create_user(session, admin, fields))


async def _connect(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider_name: str,
    firm_id: uuid.UUID,
    members: Sequence[Member],
) -> None:
    """The connections as an OAuth flow would have left them: active, on the default calendar."""
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        for m in members:
            session.add(
                Connection(
                    id=m.connection_id, firm_id=firm_id, user_id=m.manager.user_id,
                    provider=ProviderName(provider_name), status=ConnectionStatus.ACTIVE,
                    account_email=m.account.email, calendar_id=m.account.calendar_id,
                    backfill=Backfill.UPCOMING, activated_at=now,
                )
            )  # fmt: skip


async def open_channels(fleet: Fleet, admin: Admin, url: str, key: str) -> None:
    """A watch channel or subscription per connection, on the receiver."""
    setting = (
        "allow_http_push" if fleet.provider_name == "google" else "allow_http_notification_urls"
    )
    await admin.call("POST", "/settings", {setting: True})
    channels = ChannelManager(
        fleet.sessionmaker, fleet.adapters, webhook_base_url=url, secret_keys=[key],
        kick=fleet.scheduler.kick,
    )  # fmt: skip
    fleet.scheduler.on_sweep.append(channels.renew_due)  # as the app wires it
    opened = await gathered([partial(channels.open, m.connection_id) for m in fleet.members])
    if any(row is None for row in opened):
        raise RuntimeError("a push channel could not be opened")


# -- the stream ---------------------------------------------------------------------------


class Producer:
    """Makes the changes: host edits through the service layer (then a kick, as an outbox
    hook would), remote edits through the emulator as another client."""

    def __init__(self, fleet: Fleet, seed: int) -> None:
        self.fleet = fleet
        self.rng = random.Random(seed)
        self.changes: list[Change] = []
        self.retries = self.failures = 0
        """Host edits the database refused for a while (busy, or no pooled connection free),
        tried again as a client would; and edits given up after ``EDIT_ATTEMPTS``."""
        self._editing: dict[tuple[int, int], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def stream(self, rate: float, seconds: float) -> None:
        """``rate * seconds`` changes, change ``i`` started at ``i / rate`` whether or not the
        earlier ones are done (people and other clients do not wait for CaseCal)."""
        total = max(1, round(rate * seconds))
        start = time.perf_counter()
        edits: list[asyncio.Task[None]] = []
        for number in range(total):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            edits.append(asyncio.create_task(self.one(number, *self._pick())))
        await asyncio.gather(*edits)

    def achieved_rate(self) -> float:
        """Changes per second between the first and the last change's start (behind the
        schedule when this process was too busy to start them on time)."""
        starts = [c.made for c in self.changes]
        span = max(starts) - min(starts)
        return (len(starts) - 1) / span if span > 0 else float(len(starts))

    def _pick(self) -> tuple[int, int, bool]:
        """A random connection and side; host edits take even-numbered events, remote edits
        odd-numbered ones, so the two sides never edit the same event."""
        member = self.rng.randrange(len(self.fleet.members))
        host = self.rng.random() < HOST_SHARE
        events = len(self.fleet.members[member].entries)
        return member, self.rng.choice(range(0 if host else 1, events, 2)), host

    async def one(self, number: int, member: int, event: int, host: bool) -> None:
        async with self._editing[(member, event)]:  # edits of one event in their order
            title = f"Fleet {'host' if host else 'remote'} change {number}"
            made = time.perf_counter()
            m = self.fleet.members[member]
            if host:
                if not await self._host_edit(m, event, title):
                    return
                await self.fleet.scheduler.kick(m.connection_id, trigger="outbox")
            else:
                await m.account.retitle(m.remote_ids[event], title)
            committed = time.perf_counter()
        self.changes.append(Change(number, member, event, host, title, made, committed))

    async def _host_edit(self, m: Member, event: int, title: str) -> bool:
        """The edit through the service layer; when the overloaded database refuses it
        (``database is locked``, or the pool's wait for a connection timed out), tried again
        after a pause, as the API's client would. False when given up."""
        for attempt in range(1, EDIT_ATTEMPTS + 1):
            try:
                async with self.fleet.sessionmaker() as session:
                    await update_appointment(session, m.manager, m.entries[event], {"title": title})
                return True
            except (OperationalError, PoolTimeout):
                self.retries += 1
                await asyncio.sleep(0.5 * attempt)
        self.failures += 1
        return False


# -- the outcome --------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    unserved: int = 0
    groups: dict[tuple[uuid.UUID, int], tuple[set[int], set[int]]] = field(default_factory=dict)

    def minimum(self, provider: str) -> int:
        return minimums.fleet(provider, [len(host) for host, _ in self.groups.values()])

    def percentiles(self) -> dict[str, float]:
        if not self.latencies_ms:
            return {}
        return {
            "p50_ms": percentile(self.latencies_ms, 50),
            "p99_ms": percentile(self.latencies_ms, 99),
        }


def attribute(fleet: Fleet, changes: Sequence[Change]) -> Outcome:
    """Each change's carrying pass: its latency and its group for the minimum."""
    outcome = Outcome()
    for change in changes:
        connection_id = fleet.members[change.member].connection_id
        records = fleet.log.passes.get(connection_id, [])
        index = carrier(records, change.committed if change.host else change.made)
        if index is None:
            outcome.unserved += 1
            continue
        outcome.latencies_ms.append((records[index].ended - change.made) * 1000)
        host, remote = outcome.groups.setdefault((connection_id, index), (set(), set()))
        (host if change.host else remote).add(change.event)
    return outcome


async def lost(fleet: Fleet, changes: Sequence[Change]) -> int:
    """Events whose final state is not their last change: the host appointment's title for a
    remote edit, the remote event's title (read through the connection's adapter, after the
    section) for a host edit."""
    last = {(c.member, c.event): c for c in sorted(changes, key=lambda c: c.number)}
    async with fleet.sessionmaker() as session:
        rows = await session.execute(select(Appointment.id, Appointment.title))
        host_titles: dict[uuid.UUID, str] = dict(rows.all())
    pushed = [c for c in last.values() if c.host]
    remote_titles = await gathered([partial(_remote_title, fleet, c) for c in pushed])
    arrived = {(c.member, c.event): t for c, t in zip(pushed, remote_titles, strict=True)}
    for key, change in last.items():
        if not change.host:
            arrived[key] = host_titles.get(fleet.members[change.member].entries[change.event])
    return sum(arrived[key] != change.title for key, change in last.items())


async def _remote_title(fleet: Fleet, change: Change) -> str | None:
    member = fleet.members[change.member]
    remote = await member.provider.get_event(
        member.account.calendar_id, member.remote_ids[change.event]
    )
    return remote.event.title if remote.event is not None else None


async def deliveries(admin: Admin) -> list[dict[str, Any]]:
    """Every push notification the emulator has sent so far, with its answer's status (the
    Graph emulator's flush returns them once nothing is queued)."""
    if admin.provider == "google":
        sent: list[dict[str, Any]] = await admin.call("GET", "/deliveries")
    else:
        sent = await admin.call("POST", "/notifications/flush")
    return sent


def undelivered(sent: Sequence[dict[str, Any]]) -> int:
    """Notifications whose delivery failed or was not answered with a 2xx."""
    return sum(1 for d in sent if not 200 <= (d.get("status") or 0) < 300)


# -- the run ------------------------------------------------------------------------------


async def run(
    base: str, provider: str, connections: int, *, events: int, rate: float, seconds: float
) -> list[Sample]:
    seeding = time.perf_counter()
    if events < 2:
        raise ValueError("a fleet connection needs at least 2 events (one per side)")
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    counter = Counter()
    async with (
        httpx.AsyncClient(timeout=ADMIN_TIMEOUT, limits=ADMIN_LIMITS) as admin_http,
        httpx.AsyncClient(
            timeout=120.0, limits=limits, event_hooks={"request": [counter.hook]}
        ) as http,
    ):
        admin = Admin(admin_http, base, provider)
        fleet = await seed(admin, http, counter, provider, connections, events)
        try:
            async with receiver(fleet.sessionmaker, fleet.scheduler) as (url, key):
                await open_channels(fleet, admin, url, key)
                await fleet.settle()
                seeded = time.perf_counter() - seeding
                sample = await _timed(fleet, admin, counter, rate=rate, seconds=seconds)
                sample.extra["seed_s"] = seeded
                sample.extra |= {f"seed_{k}": v for k, v in fleet.seeding.items()}
        finally:
            await fleet.close()
    sample.note = (
        f"{events} events each; {rate:g} changes/s for {seconds:g} s, "
        f"{HOST_SHARE:.0%} host; remote via push receiver"
    )
    return [sample]


async def _timed(
    fleet: Fleet, admin: Admin, counter: Counter, *, rate: float, seconds: float
) -> Sample:
    """The measured section: the stream, then until the fleet has settled."""
    producer = Producer(fleet, seed=len(fleet.members))
    notified = len(await deliveries(admin))
    await admin.clear_log()
    fleet.log.clear()
    before = counter.sent
    meter = Meter()
    meter.start()
    start = time.perf_counter()
    await producer.stream(rate, seconds)
    await fleet.settle()
    measured = meter.stop()
    passes = fleet.log.all()
    ended = max([p.ended for p in passes] + [c.committed for c in producer.changes])
    outcome = attribute(fleet, producer.changes)
    sample = Sample(
        scenario=SCENARIO, provider=fleet.provider_name, size=len(fleet.members),
        wall_s=ended - start, cpu_s=measured.cpu_s,
        rss_growth_mb=measured.rss_growth_mb, requests=len(await admin.log()),
        round_trips=counter.sent - before, minimum=outcome.minimum(fleet.provider_name),
        events=len(producer.changes),
    )  # fmt: skip
    sample.extra |= outcome.percentiles() | {
        "passes": float(len(passes)),
        "failed": float(sum(not p.ok for p in passes)),
        "lost": float(await lost(fleet, producer.changes)),
        "unserved": float(outcome.unserved),
        "undelivered": float(undelivered((await deliveries(admin))[notified:])),
        "rate": producer.achieved_rate(),
        "edit_retries": float(producer.retries),
        "edit_failures": float(producer.failures),
        "peak_rss_mb": peak_rss_mb(),
    }
    sample.distributions["latency_ms"] = outcome.latencies_ms
    return sample
