"""A fleet for the scale-out tests: the emulators and several ``casecal worker`` processes as
real OS processes on one PostgreSQL database, and a firm of case managers with Google
connections whose host entries are written through the services (outbox rows included)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.entries import delete_entry
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Appointment,
    Backfill,
    Base,
    Connection,
    ConnectionStatus,
    OutboxRow,
    ProviderName,
    Role,
    SyncRun,
    User,
)

CLIENT_ID, CLIENT_SECRET = "casecal-scale", "casecal-scale-secret"
SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.events"]
ENTRY_POINT = Path(__file__).with_name("scale_worker_main.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fleet_settings(database_url: str, emulator: str) -> Settings:
    # Not the defaults, and why: one fixed key shared by every worker process the test starts
    # (a key file would also do, but the workers get their settings from the environment);
    # the emulator's URLs; WARNING-level JSON logs, so hundreds of passes do not flood the
    # captured output.
    return Settings(
        database_url=database_url,
        secret_keys=["scale-test-key"],
        base_url="http://testserver",
        google_api_base_url=f"{emulator}/google",
        google_token_url=f"{emulator}/google/token",
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        log_level="WARNING",
        log_json=True,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env |= {
        "CASECAL_DATABASE_URL": settings.database_url,
        "CASECAL_SECRET_KEYS": '["scale-test-key"]',
        "CASECAL_BASE_URL": settings.base_url,
        "CASECAL_GOOGLE_API_BASE_URL": settings.google_api_base_url,
        "CASECAL_GOOGLE_TOKEN_URL": settings.google_token_url,
        "CASECAL_GOOGLE_CLIENT_ID": CLIENT_ID,
        "CASECAL_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "CASECAL_LOG_LEVEL": "WARNING",
        "CASECAL_LOG_JSON": "true",
    }
    return env


def start_emulators(port: int, log: Path) -> subprocess.Popen[bytes]:
    casecal = Path(sys.executable).with_name("casecal")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(casecal), "emulators", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, CASECAL_LOG_LEVEL="WARNING"),
        )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"emulators did not start; see {log}")


@dataclass
class WorkerProcs:
    """The ``casecal worker`` processes of a test, by name."""

    env: dict[str, str]
    logs: Path
    concurrency: int = 3
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def start(self) -> str:
        self.started += 1
        name = f"w{self.started}"
        with (self.logs / f"{name}.log").open("wb") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, str(ENTRY_POINT), name, str(self.concurrency)],
                stdout=out, stderr=subprocess.STDOUT, env=self.env,
            )  # fmt: skip
        return name

    def kill(self, name: str) -> None:
        """SIGKILL: no graceful stop, no job finished, the heartbeat just stops."""
        proc = self.procs.pop(name)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()

    def alive(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is None]


@dataclass
class Member:
    user_id: uuid.UUID
    email: str
    connection_id: uuid.UUID
    entries: list[uuid.UUID] = field(default_factory=list)
    made: int = 0


class Firm:
    """One firm whose case managers each have an active Google connection."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.members: list[Member] = []
        self.firm_id = uuid.uuid4()
        self.emulator = settings.google_api_base_url

    async def reset(self) -> None:
        """Empty the application tables and the queue (the database is shared by the run)."""
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with self.sessionmaker() as session, session.begin():
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            exists = await session.scalar(text("SELECT to_regclass('procrastinate_jobs')"))
            if exists is not None:
                await session.execute(
                    text("TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE")
                )

    async def create(self, http: httpx.AsyncClient, size: int) -> None:
        async with self.sessionmaker() as session:
            made = await create_firm(
                session, name="Scale Firm", admin_email="admin@scale.example", admin_name="A"
            )
        self.firm_id = made.firm_id
        emu = f"{self.emulator}/_emulator"
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": []}
        (await http.post(f"{emu}/clients", json=body)).raise_for_status()
        cipher = TokenCipher.from_settings(self.settings)
        now = datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            for index in range(size):
                email = f"cm{index:04d}@scale.example"
                (await http.post(f"{emu}/accounts", json={"email": email})).raise_for_status()
                grant = {"email": email, "client_id": CLIENT_ID, "scopes": SCOPES}
                tokens = (await http.post(f"{emu}/tokens", json=grant)).json()
                user = User(id=uuid.uuid4(), firm_id=made.firm_id, email=email, name=email,
                            role=Role.CASE_MANAGER, is_active=True)  # fmt: skip
                connection = Connection(
                    id=uuid.uuid4(), firm_id=made.firm_id, user_id=user.id,
                    provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                    account_email=email, calendar_id=email, backfill=Backfill.UPCOMING,
                    refresh_token_enc=cipher.encrypt(tokens["refresh_token"]),
                    access_token_enc=cipher.encrypt(tokens["access_token"]),
                    access_token_expires_at=now + timedelta(minutes=50), activated_at=now,
                    next_poll_at=now + timedelta(hours=1),
                )  # fmt: skip
                session.add(user)
                await session.flush()
                session.add(connection)
                self.members.append(Member(user.id, email, connection.id))

    def _actor(self, member: Member) -> Actor:
        return Actor(user_id=member.user_id, firm_id=self.firm_id, role=Role.CASE_MANAGER)

    async def add_entry(self, member: Member) -> None:
        member.made += 1
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1 + member.made % 20)
        data: dict[str, Any] = {
            "title": f"{member.email} #{member.made}",
            "start_at": start,
            "end_at": start + timedelta(hours=1),
            "time_zone": "UTC",
        }
        async with self.sessionmaker() as session:
            entry = await create_appointment(session, self._actor(member), data)
        member.entries.append(entry.id)

    async def retitle_entry(self, member: Member, index: int) -> None:
        entry_id = member.entries[index % len(member.entries)]
        member.made += 1
        async with self.sessionmaker() as session:
            await update_appointment(
                session, self._actor(member), entry_id, {"title": f"{member.email} #{member.made}"}
            )

    async def delete_entry(self, member: Member, index: int) -> None:
        entry_id = member.entries.pop(index % len(member.entries))
        async with self.sessionmaker() as session:
            await delete_entry(session, self._actor(member), Appointment, entry_id)

    # --- what the tests measure ---------------------------------------------------------------

    async def pending_outbox(self) -> int:
        async with self.sessionmaker() as session:
            query = select(func.count()).where(OutboxRow.processed_at.is_(None))
            return int(await session.scalar(query) or 0)

    async def queue_counts(self) -> dict[str, int]:
        async with self.sessionmaker() as session:
            rows = await session.execute(
                text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
            )
            return {str(status): int(count) for status, count in rows.all()}

    async def runs(self) -> list[SyncRun]:
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(SyncRun))).all())

    async def host_titles(self, member: Member) -> list[str]:
        async with self.sessionmaker() as session:
            query = select(Appointment.title).where(
                Appointment.owner_id == member.user_id, Appointment.deleted_at.is_(None)
            )
            return sorted((await session.scalars(query)).all())

    async def remote_titles(self, http: httpx.AsyncClient, member: Member) -> list[str]:
        url = f"{self.emulator}/_emulator/calendars/{member.email}/events"
        events: list[dict[str, Any]] = (await http.get(url)).json()
        return sorted(str(e.get("summary", "")) for e in events if e.get("status") != "cancelled")

    async def drop_runs(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(SyncRun))


def overlaps(runs: list[SyncRun], ends: dict[uuid.UUID, datetime]) -> list[tuple[str, str]]:
    """Pairs of passes of one connection whose intervals intersect. ``ends`` gives the end of a
    pass that never finished (its worker was killed)."""
    by_connection: dict[uuid.UUID, list[tuple[datetime, datetime, uuid.UUID]]] = {}
    for run in runs:
        end = run.finished_at or ends.get(run.id)
        assert end is not None, f"pass {run.id} never finished and no worker was killed in it"
        by_connection.setdefault(run.connection_id, []).append((run.started_at, end, run.id))
    found: list[tuple[str, str]] = []
    for spans in by_connection.values():
        spans.sort()
        for (_, end, first), (start, _, second) in pairwise(spans):
            if start < end:
                found.append((str(first), str(second)))
    return found
