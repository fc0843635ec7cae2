"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and the app on top of it.

PostgreSQL comes from ``CASECAL_TEST_POSTGRES_URL`` (default: the local server as ``postgres``).
The run creates its own database and drops it at the end. Without a reachable server the
PostgreSQL variants are skipped with the reason printed, unless ``CASECAL_REQUIRE_POSTGRES=1``
(as ``.ci/run`` sets), which turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade
from casecal.store.tables import Base
from casecal.web.app import create_app

settings.register_profile("dev", max_examples=50, deadline=None)
# CI replays the same examples on every run (derandomize), so a red build always reproduces;
# the dev profile keeps exploring new examples and the nightly one explores at length.
settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PG_ADMIN_URL = os.environ.get(
    "CASECAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("CASECAL_REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _sqlalchemy_url(url: str, database: str) -> str:
    base = _asyncpg_dsn(url).rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this run, dropped afterwards."""
    name = f"casecal_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc!r}): PostgreSQL tests skipped"
        if REQUIRE_PG:
            pytest.fail(reason.replace("skipped", "required by CASECAL_REQUIRE_POSTGRES=1"))
        pytest.skip(reason)
    url = _sqlalchemy_url(PG_ADMIN_URL, name)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "casecal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    name = url.rsplit("/", 1)[1]
    asyncio.run(_pg_truncate(name, tables))
    return url


async def _pg_truncate(database: str, tables: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(_sqlalchemy_url(PG_ADMIN_URL, database)), timeout=5)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        # Fixed key material, so tests can make channel digests themselves and no test writes a
        # key file; the default (no keys: the key file in data_dir) runs in
        # integration/push/test_push_default_install.py and tests/e2e/demo, as `make demo` does.
        secret_keys=["test-secret-key"],
        base_url="http://testserver",  # httpx's in-process host: links and redirects stay here
        embedded_scheduler=False,  # tests drive passes themselves; see tests/integration/push
    )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(app_settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
