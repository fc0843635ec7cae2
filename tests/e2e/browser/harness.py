"""The browser tests' world: the emulators and CaseCal, each served by uvicorn on a free
loopback port in a background thread, a seeded firm, and a Playwright page that saves a
screenshot at each step."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import uvicorn
from playwright.sync_api import Page
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.passwords import hash_password
from casecal.config import Settings
from casecal.emulators.combined import Emulators, build_emulators
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.users import create_user
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade
from casecal.store.tables import Role, User
from casecal.web.app import create_app

T = TypeVar("T")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
PASSWORD = "browser-test-password"
CHROMIUM = Path("/usr/bin/chromium")
FIRM_ZONE = ZoneInfo("America/New_York")
"""The seeded firm's time zone (the default of ``create_firm``)."""
STEP_TIMEOUT_MS = 20_000
"""Per action and assertion: a sync pass on a busy machine can take several seconds."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip


def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run ``func`` in a fresh thread: the sync Playwright API keeps an event loop running in
    the test's own thread, so ``asyncio.run`` (and Alembic, which uses it) cannot run there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args).result()


def tomorrow_at_ten() -> datetime:
    """10:00 tomorrow in the firm's zone (as UTC): that day's entries share one calendar week
    day whatever the hour the test runs."""
    tomorrow = datetime.now(FIRM_ZONE).date() + timedelta(days=1)
    return datetime.combine(tomorrow, dt_time(10), FIRM_ZONE).astimezone(UTC)


def loopback_socket() -> tuple[socket.socket, str]:
    """A socket bound to a free loopback port, and the base URL it will serve."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def serve(app: Any, sock: socket.socket) -> Iterator[None]:
    """Serve an ASGI app with uvicorn on ``sock`` in a background thread."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def casecal_settings(tmp: Path, base_url: str, emulators_url: str) -> Settings:
    """The default install's settings (no secret keys: the key file in the data directory; the
    embedded scheduler on), except what must differ, and why: the emulators' URLs and client
    ids, because the providers are the emulators in their own process."""
    return Settings(
        data_dir=tmp, database_url=f"sqlite+aiosqlite:///{tmp / 'casecal.db'}",
        base_url=base_url,
        google_auth_base_url=f"{emulators_url}/google",
        google_token_url=f"{emulators_url}/google/token",
        google_api_base_url=f"{emulators_url}/google",
        google_client_id="casecal-google", google_client_secret="google-secret",
        microsoft_auth_base_url=f"{emulators_url}/microsoft",
        microsoft_graph_base_url=f"{emulators_url}/microsoft",
        microsoft_client_id="casecal-microsoft", microsoft_client_secret="microsoft-secret",
    )  # fmt: skip


@dataclass
class Stack:
    """Both servers, the emulators' state, the database and the seeded people."""

    emulators: Emulators
    emulators_url: str
    url: str
    settings: Settings
    firm_id: uuid.UUID
    people: dict[str, uuid.UUID] = field(default_factory=dict)
    tenant_id: str = ""
    ms_oid: str = ""

    def run(self, work: Any) -> Any:
        """Run ``work(session)`` against CaseCal's database from the test thread."""

        async def go() -> Any:
            engine = make_engine(self.settings.database_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    return await work(session)
            finally:
                await engine.dispose()

        return in_thread(asyncio.run, go())

    def actor(self, who: str, role: Role) -> Actor:
        return Actor(self.people[who], self.firm_id, role)


async def seed_firm(session: AsyncSession) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """Contoso Law: an admin who also administers the Microsoft tenant, Ann (Microsoft 365)
    and Bob (Google), each with a password."""
    made = await create_firm(
        session, name="Contoso Law", admin_email="admin@contoso.com", admin_name="Ada Admin"
    )
    admin = Actor(made.admin_user_id, made.firm_id, Role.FIRM_ADMIN)
    ann = await create_user(session, admin, {"email": "ann@contoso.com", "name": "Ann Lee",
                                             "role": Role.CASE_MANAGER})  # fmt: skip
    bob = await create_user(session, admin, {"email": "bob@example.org", "name": "Bob Brown",
                                             "role": Role.CASE_MANAGER})  # fmt: skip
    hashed = hash_password(PASSWORD)
    for user_id in (made.admin_user_id, ann.id, bob.id):
        user = await session.get(User, user_id)
        assert user is not None
        user.password_hash = hashed
    await session.commit()
    return made.firm_id, {"admin": made.admin_user_id, "ann": ann.id, "bob": bob.id}


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    emulators = build_emulators(seed=7)
    emulator_sock, emulators_url = loopback_socket()
    casecal_sock, base = loopback_socket()
    with emulator_sock, casecal_sock:
        yield from _stack(tmp, emulators, (emulator_sock, emulators_url), (casecal_sock, base))


def _stack(
    tmp: Path,
    emulators: Emulators,
    emulator_end: tuple[socket.socket, str],
    casecal_end: tuple[socket.socket, str],
) -> Iterator[Stack]:
    (emulator_sock, emulators_url), (casecal_sock, base) = emulator_end, casecal_end
    settings = casecal_settings(tmp, base, emulators_url)
    redirects = [f"{base}/oauth/google/callback", f"{base}/oauth/microsoft/callback",
                 f"{base}/oauth/microsoft/adminconsent/callback"]  # fmt: skip
    google, microsoft = emulators.google, emulators.microsoft
    google.auto_approve = microsoft.auto_approve = True
    google.add_account("bob@example.org", "Bob Brown")
    google.add_calendar("bob@example.org", "Court dates", access_role="writer")
    google.add_calendar("bob@example.org", "Holidays", access_role="reader")
    google.register_client("casecal-google", "google-secret", redirects)
    tenant = microsoft.add_tenant(domain="contoso.com", admin_consent_required=True)
    oid = microsoft.add_user(tenant, "ann@contoso.com", "Ann Lee")
    microsoft.add_calendar(oid, "Team hearings")
    microsoft.add_user(tenant, "admin@contoso.com", "Ada Admin", is_admin=True)
    microsoft.register_app("casecal-microsoft", "microsoft-secret", redirects)
    in_thread(upgrade, settings.database_url)
    stack = Stack(emulators, emulators_url, base, settings, uuid.uuid4(), tenant_id=tenant,
                  ms_oid=oid)  # fmt: skip
    stack.firm_id, stack.people = stack.run(seed_firm)
    with serve(emulators.app, emulator_sock), serve(create_app(settings), casecal_sock):
        yield stack


class Shots:
    """Saves ``<test>-<nn>-<step>.png`` for each step of one test."""

    def __init__(self, name: str) -> None:
        self.name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.name}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/calendar-sync.*"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login.*"))
