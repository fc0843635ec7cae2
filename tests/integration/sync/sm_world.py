"""The world of the sync state machine: one firm, two case managers each with an active
connection to their own calendar on the same emulated provider, and an engine that a test can
kill at any provider call or at any database commit of a pass.

A crash is a ``BaseException`` (``Crash``), so no ``except Exception`` of the engine can
swallow it: the pass stops where it is, its open transaction is rolled back, and whatever it
had already done at the provider stays done, as when the process dies."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from caldav_remote import CalDavRemote
from fastapi import FastAPI
from remotes import GoogleRemote, MicrosoftRemote, Remote, make_remote
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from casecal.providers._http import RetryPolicy
from casecal.providers.base import Provider
from casecal.providers.caldav import CalDavProvider
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.services.firms import create_firm
from casecal.store.migrate import upgrade
from casecal.store.tables import Backfill, Connection, ConnectionStatus, ProviderName
from casecal.sync.engine import SyncEngine

EMAILS = ("one@sm.example", "two@sm.example")
FAST_RETRIES = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.004, jitter=0.0)
"""The production retry rules (attempts, Retry-After, what is retried) without the waiting."""


class Crash(BaseException):
    """The process died here (not an error the engine may catch)."""


# --- crashes at provider calls -----------------------------------------------------------


class CrashingProvider:
    """Passes every call to the real adapter, and dies at call number ``at``: before the call
    reaches the provider, or after it took effect there (the dangerous case: a remote write
    whose link was never saved)."""

    def __init__(self, inner: Provider, at: int, after: bool) -> None:
        self.inner, self.at, self.after, self.calls = inner, at, after, 0
        self.capabilities = inner.capabilities

    def _tick(self, phase_after: bool) -> None:
        if phase_after == self.after and self.calls == self.at:
            raise Crash

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name == "changes":

            async def stream(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                self._tick(False)
                async for page in target(*args, **kwargs):
                    yield page
                self._tick(True)

            return stream

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self._tick(False)
            result = await target(*args, **kwargs)
            self._tick(True)
            return result

        return call


class RacingProvider(CrashingProvider):
    """Like a colleague editing in Outlook mid-pass: just before call number ``at``, another
    client edits the calendar (``race``), so a write with the etag read earlier meets a 412."""

    def __init__(self, inner: Provider, at: int, race: Callable[[], None]) -> None:
        super().__init__(inner, at, after=False)
        self.race = race

    def _tick(self, phase_after: bool) -> None:
        if not phase_after and self.calls == self.at:
            self.race()


# --- crashes at database commits ---------------------------------------------------------


@dataclass
class CommitCrasher:
    """Counts the commits of the engine's sessions and dies at commit number ``at``: before
    it (the transaction is lost) or just after it (durable, and nothing after it ran)."""

    at: int | None = None
    after: bool = False
    commits: int = 0

    def arm(self, at: int, *, after: bool) -> None:
        self.at, self.after, self.commits = at, after, 0

    def disarm(self) -> None:
        self.at = None

    def tick(self, phase_after: bool) -> None:
        if self.at is None:
            return
        if not phase_after:
            self.commits += 1
        if phase_after == self.after and self.commits == self.at:
            self.at = None  # dies once; the rollback and close that follow must not die too
            raise Crash


class EngineSession(Session):
    """The sync session class of the engine's sessions, so the crash hooks touch no other
    session (the API's, the test's)."""


def _crasher(session: Session) -> CommitCrasher | None:
    found = session.info.get("crasher")
    return found if isinstance(found, CommitCrasher) else None


@event.listens_for(EngineSession, "before_commit")
def _before_commit(session: Session) -> None:
    crasher = _crasher(session)
    if crasher is not None:
        crasher.tick(phase_after=False)


@event.listens_for(EngineSession, "after_commit")
def _after_commit(session: Session) -> None:
    crasher = _crasher(session)
    if crasher is not None:
        crasher.tick(phase_after=True)


def crashing_sessionmaker(
    bind: AsyncEngine, crasher: CommitCrasher
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the application's own engine (the same database, the same per-connection
    lock), configured like ``store.db.make_sessionmaker``, whose commits ``crasher`` counts."""
    return async_sessionmaker(
        bind=bind,
        expire_on_commit=False,
        sync_session_class=EngineSession,
        info={"crasher": crasher},
    )


# --- the case managers' calendars --------------------------------------------------------


class SharedGoogleRemote(GoogleRemote):
    """A second account's primary calendar on the same Google emulator."""

    def __init__(self, first: GoogleRemote, email: str) -> None:
        self.emu = first.emu
        self.emu.add_account(email, name="Second Case Manager")
        self.calendar_id = email
        self.log, self.faults, self.feed_path = first.log, first.faults, first.feed_path


class SharedMicrosoftRemote(MicrosoftRemote):
    """A second user's default calendar in the same tenant of the same Graph emulator."""

    def __init__(self, first: MicrosoftRemote, email: str) -> None:
        self.emu = first.emu
        self.tenant = first.tenant
        self.oid = self.emu.add_user(self.tenant, email, "Second Case Manager")
        self.calendar_id = ""
        self.log, self.faults, self.feed_path = first.log, first.faults, first.feed_path


def calendars(provider: str) -> list[GoogleRemote | MicrosoftRemote | CalDavRemote]:
    """One calendar per case manager, all on one emulator (one fault injector); on CalDAV,
    two users of one Radicale."""
    if provider == "caldav":
        one = CalDavRemote(EMAILS[0])
        return [one, CalDavRemote(EMAILS[1], faults=one.faults)]
    first = make_remote(provider, EMAILS[0])
    if isinstance(first, GoogleRemote):
        return [first, SharedGoogleRemote(first, EMAILS[1])]
    return [first, SharedMicrosoftRemote(first, EMAILS[1])]


async def fast_adapter(
    remote: GoogleRemote | MicrosoftRemote | CalDavRemote, email: str
) -> tuple[Provider, httpx.AsyncClient]:
    """The real adapter of ``email``'s calendar, retrying as in production but at once."""
    adapter, http = await remote.provider(email)
    assert isinstance(adapter, GoogleCalendarProvider | MicrosoftGraphProvider | CalDavProvider)
    adapter.http.policy = FAST_RETRIES
    return adapter, http


# --- the world ---------------------------------------------------------------------------

_TEMPLATE: list[Path] = []


def migrated_database(directory: Path) -> str:
    """The URL of a fresh, fully migrated SQLite database in ``directory``: a copy of one
    migrated once per process (migrating takes most of an example's setup otherwise). Not
    from a running event loop: the migration runs its own."""
    if not _TEMPLATE:
        folder = tempfile.mkdtemp(prefix="casecal-sm-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / "template.db"
        upgrade(f"sqlite+aiosqlite:///{template}")
        with sqlite3.connect(template) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the one file
        _TEMPLATE.append(template)
    target = directory / "sm.db"
    shutil.copyfile(_TEMPLATE[0], target)
    return f"sqlite+aiosqlite:///{target}"


@dataclass
class Manager:
    """A case manager: API headers, the calendar as another client sees it, and the
    connection with its adapter."""

    index: int
    user_id: uuid.UUID
    headers: dict[str, str]
    remote: Remote
    adapter: Provider
    http: httpx.AsyncClient
    connection_id: uuid.UUID


@dataclass
class Hazards:
    """What the next pass's adapter does besides its job: die at a call, or let another
    client edit the calendar just before a call."""

    crash: tuple[int, bool] | None = None
    race: tuple[int, Callable[[], None]] | None = None

    def wrap(self, adapter: Provider) -> Provider:
        if self.race is not None:
            at, race = self.race
            return RacingProvider(adapter, at, race)
        if self.crash is not None:
            at, after = self.crash
            return CrashingProvider(adapter, at, after)
        return adapter


@dataclass
class World:
    app: FastAPI
    api: httpx.AsyncClient
    firm_id: uuid.UUID
    admin: dict[str, str]
    managers: list[Manager]
    engine: SyncEngine
    crasher: CommitCrasher
    hazards: Hazards = field(default_factory=Hazards)

    async def close(self) -> None:
        for manager in self.managers:
            await manager.http.aclose()


async def build_world(app: FastAPI, api: httpx.AsyncClient, provider: str) -> World:
    """A firm, its admin, two case managers with active connections, and the engine."""
    async with app.state.sessionmaker() as session:
        firm = await create_firm(session, name="SM", admin_email="a@sm.example", admin_name="A")
    admin = {"Authorization": f"Bearer {firm.token}"}
    managers: list[Manager] = []
    for index, (remote, email) in enumerate(zip(calendars(provider), EMAILS, strict=True)):
        user = await _json(
            api.post(
                "/users",
                headers=admin,
                json={"email": email, "name": f"CM {index}", "role": "case_manager"},
            )
        )
        token = await _json(api.post(f"/users/{user['id']}/tokens", json={}, headers=admin))
        adapter, http = await fast_adapter(remote, email)
        connection_id = uuid.uuid4()
        async with app.state.sessionmaker() as session, session.begin():
            session.add(
                Connection(
                    id=connection_id,
                    firm_id=firm.firm_id,
                    user_id=uuid.UUID(user["id"]),
                    provider=ProviderName(provider),
                    status=ConnectionStatus.ACTIVE,
                    account_email=email,
                    calendar_id=remote.calendar_id,
                    backfill=Backfill.UPCOMING,
                    activated_at=datetime.now(UTC),
                )
            )
        managers.append(
            Manager(
                index=index,
                user_id=uuid.UUID(user["id"]),
                headers={"Authorization": f"Bearer {token['token']}"},
                remote=remote,
                adapter=adapter,
                http=http,
                connection_id=connection_id,
            )
        )
    crasher = CommitCrasher()
    hazards = Hazards()
    by_connection = {m.connection_id: m for m in managers}

    async def provider_for(connection: Connection) -> Provider:
        return hazards.wrap(by_connection[connection.id].adapter)

    bind = app.state.sessionmaker.kw["bind"]
    engine = SyncEngine(
        crashing_sessionmaker(bind, crasher), provider_for, base_url="http://testserver"
    )
    return World(app, api, firm.firm_id, admin, managers, engine, crasher, hazards)


async def _json(request: Any) -> Any:
    response: httpx.Response = await request
    assert response.is_success, response.text
    return response.json()
