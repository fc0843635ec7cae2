"""Property-based fuzzing of the whole API against its own OpenAPI document (schemathesis), on
SQLite and on PostgreSQL.

Every operation of the document runs (the health probes too). The firm is seeded with one of
everything an id in a path can name (users, an API token, a team, a case, an appointment, a
court date, an interview, a step reminder, a subscription, an alias, a connection and a
conflict), and most generated paths get one of those ids, so requests reach existing resources
and not only 404s. Checks: no 5xx, and every status code, content type and body documented in
the schema. Examples per operation are few so both runs stay within a minute on a busy
machine; ``FUZZ_EXAMPLES`` raises them for a longer run.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import PG_ADMIN_URL, REQUIRE_PG, _pg_admin, _sqlalchemy_url

from casecal.config import Settings
from casecal.services.firms import create_firm
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade
from casecal.store.tables import (
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    ProviderName,
)
from casecal.web.app import create_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
EXISTING = 0.8
"""How often a path id is one of the seeded ones (else whatever schemathesis made up)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Seeded:
    token: str = ""
    ids: dict[str, list[str]] = field(default_factory=dict)


def _app(url: str, home: Path) -> FastAPI:
    # Not the defaults, and why: a fixed key (the fuzzer creates tokens and data, nothing reads
    # the key file); no embedded scheduler, so that only the fuzzed requests touch the database.
    settings_ = Settings(
        data_dir=home,
        database_url=url,
        secret_keys=["fuzz-key"],
        base_url="http://testserver",
        embedded_scheduler=False,
    )
    return create_app(settings_)


# The schema is loaded when the module is imported (the lazy fixture loader of schemathesis
# does not work with this pytest), so both apps and their database URLs are fixed here; each
# database is made and seeded by its fixture before the first request.
_DIR = Path(tempfile.mkdtemp(prefix="casecal-fuzz-"))
_SQLITE_URL = f"sqlite+aiosqlite:///{_DIR / 'fuzz.db'}"
_PG_NAME = f"casecal_fuzz_{uuid.uuid4().hex[:12]}"
_PG_URL = _sqlalchemy_url(PG_ADMIN_URL, _PG_NAME)
SQLITE_APP = _app(_SQLITE_URL, _DIR / "sqlite")
PG_APP = _app(_PG_URL, _DIR / "postgres")
sqlite_schema = schemathesis.openapi.from_asgi("/api/openapi.json", SQLITE_APP)
pg_schema = schemathesis.openapi.from_asgi("/api/openapi.json", PG_APP)


async def _seed(app: FastAPI, url: str) -> Seeded:
    """A firm with one of everything a path can name, made through the API where it can be."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            made = await create_firm(
                session, name="Fuzz firm", admin_email="admin@fuzz.test", admin_name="Admin"
            )
    finally:
        await engine.dispose()
    seeded = Seeded(token=made.token)
    auth = {"Authorization": f"Bearer {made.token}"}
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as api,
    ):

        async def post(path: str, body: dict[str, Any]) -> str:
            response = await api.post(f"/api/v1/{path}", json=body, headers=auth)
            assert response.status_code in (200, 201), (path, response.text)
            return str(response.json().get("id", ""))

        # Not the admin: a generated PATCH could deactivate the token's own user.
        users = [
            await post("users", {"email": f"{role}@fuzz.test", "name": role, "role": role})
            for role in ("case_manager", "staff")
        ]
        manager = users[0]
        tokens = [await post(f"users/{user}/tokens", {}) for user in users]
        team = await post("teams", {"name": "Team"})
        case = await post(
            "cases", {"number": "F-1", "beneficiary": "Ana Diaz", "manager_ids": [manager]}
        )
        timed = {"start_at": "2026-05-04T10:00:00Z", "time_zone": "UTC"}
        appointment = await post(
            "appointments",
            {**timed, "title": "A", "end_at": "2026-05-04T11:00:00Z", "owner_id": manager,
             "rrule": "FREQ=WEEKLY;COUNT=5"},
        )  # fmt: skip
        lost = await post(
            "appointments",
            {**timed, "title": "B", "end_at": "2026-05-04T12:00:00Z", "owner_id": manager},
        )
        court = await post("court-dates", {**timed, "case_id": case, "hearing_type": "Master"})
        interview = await post("interviews", {**timed, "case_id": case, "interview_type": "I"})
        reminder = await post(
            "step-reminders", {"case_id": case, "step_name": "File", "due_date": "2026-05-05"}
        )
        await post("subscription", {})
        alias = await post(
            f"users/{manager}/aliases", {"provider": "google", "account_email": "cm@fuzz.test"}
        )
    connection, conflict = uuid.uuid4(), uuid.uuid4()
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            session.add(
                Connection(
                    id=connection,
                    firm_id=made.firm_id,
                    user_id=uuid.UUID(manager),
                    provider=ProviderName.GOOGLE,
                    status=ConnectionStatus.ACTIVE,
                    calendar_id="primary",
                )
            )
            await session.flush()
            session.add(ConflictRecord(id=conflict, firm_id=made.firm_id,
                                       connection_id=connection,
                                       entry_kind=EntryKind.APPOINTMENT,
                                       entry_id=uuid.UUID(lost), winner="remote",
                                       loser_snapshot={"deleted": True}))  # fmt: skip
    finally:
        await engine.dispose()
    seeded.ids = {
        "user_id": users, "token_id": tokens, "team_id": [team], "case_id": [case],
        "appointment_id": [appointment], "court_date_id": [court],
        "interview_id": [interview], "step_reminder_id": [reminder], "alias_id": [alias],
        "connection_id": [str(connection)], "conflict_id": [str(conflict)],
    }  # fmt: skip
    return seeded


@pytest.fixture(scope="module")
def on_sqlite(sqlite_template: Path) -> Seeded:
    shutil.copy(sqlite_template, _DIR / "fuzz.db")
    return asyncio.run(_seed(SQLITE_APP, _SQLITE_URL))


@pytest.fixture(scope="module")
def on_postgres() -> Iterator[Seeded]:
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{_PG_NAME}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc!r}): fuzzing on it skipped"
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        upgrade(_PG_URL)
        yield asyncio.run(_seed(PG_APP, _PG_URL))
    finally:
        shutdown_lifespans()  # the apps' engines, before their database goes
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_PG_NAME}" WITH (FORCE)'))


@pytest.fixture(scope="module", autouse=True)
def _remove_dir() -> Iterator[None]:
    yield
    shutdown_lifespans()
    shutil.rmtree(_DIR, ignore_errors=True)


def _call(case: Any, seeded: Seeded) -> None:
    """Most path ids become seeded ones (the same choice for the same generated path)."""
    choose = random.Random(repr(sorted((case.path_parameters or {}).items())))
    for name in list(case.path_parameters or {}):
        if name in seeded.ids and choose.random() < EXISTING:
            case.path_parameters[name] = choose.choice(seeded.ids[name])
    case.call_and_validate(headers={"Authorization": f"Bearer {seeded.token}"}, checks=CHECKS)


FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@sqlite_schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema(case: Any, on_sqlite: Seeded) -> None:
    _call(case, on_sqlite)


@pytest.mark.postgres
@pg_schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema_on_postgres(case: Any, on_postgres: Seeded) -> None:
    _call(case, on_postgres)
