"""Two real ``casecal serve`` processes over one database (SQLite, the default install) share
the sign-in budget: failures spent on one count on the other, and a browser known to one is
known to the other (both read the key file in the shared data directory)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casecal.auth.passwords import hash_password
from casecal.config import Settings
from casecal.services.firms import create_firm
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade
from casecal.store.tables import User

ADMIN, PASSWORD, LIMIT = "boss@two.example", "the right password", 4
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            made = await create_firm(session, name="Two", admin_email=ADMIN, admin_name="Boss")
            admin = await session.get(User, made.admin_user_id)
            assert admin is not None
            admin.password_hash = hash_password(PASSWORD)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    data.mkdir()
    upgrade(settings.database_url)
    asyncio.run(_seed(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECAL_")}
    # The default install's settings, with a small budget to keep the test short and no
    # scheduler (nothing to sync here).
    env |= {"CASECAL_DATA_DIR": str(data), "CASECAL_EMBEDDED_SCHEDULER": "false",
            "CASECAL_LOGIN_ATTEMPTS_PER_15_MINUTES": str(LIMIT)}  # fmt: skip
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "casecal.cli", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            _wait_ready(base)
        yield bases[0], bases[1]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


def _sign_in(browser: httpx.Client, base: str, password: str) -> httpx.Response:
    form = browser.get(f"{base}/login")
    found = _CSRF.search(form.text)
    assert found, form.text
    data = {"email": ADMIN, "password": password, "csrf_token": found.group(1)}
    return browser.post(f"{base}/login", data=data)


def test_two_processes_share_the_sign_in_budget(two_servers: tuple[str, str]) -> None:
    one, two = two_servers
    with httpx.Client(timeout=10) as usual, httpx.Client(timeout=10) as attacker:
        assert _sign_in(usual, one, PASSWORD).status_code == 303  # known to process one
        usual.cookies.delete("casecal_session")
        for i in range(LIMIT):  # half the guesses on each process
            assert _sign_in(attacker, (one, two)[i % 2], f"guess {i}").status_code == 401
        for base in (one, two):
            refused = _sign_in(attacker, base, PASSWORD)
            assert refused.status_code == 429, base
            assert int(refused.headers["retry-after"]) > 0
        # the owner's browser, known to process one, signs in on process two
        assert _sign_in(usual, two, PASSWORD).status_code == 303
