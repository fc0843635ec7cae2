"""Property-based fuzzing of the REST API against its own OpenAPI document (schemathesis).

Runs on SQLite only: the app gets its own migrated SQLite copy, seeded with a firm whose
admin token authenticates every generated request. Checks: no 5xx, every status code,
content type and body documented in the schema. The number of examples per operation is
kept small so the whole run stays well under a minute.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casecal.config import Settings
from casecal.services.firms import create_firm
from casecal.store.db import make_engine, make_sessionmaker
from casecal.web.app import create_app


async def _seed(url: str) -> str:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            made = await create_firm(
                session, name="Fuzz firm", admin_email="admin@fuzz.test", admin_name="Admin"
            )
        return made.token
    finally:
        await engine.dispose()


# The schema is loaded when the module is imported (the lazy fixture loader of schemathesis
# does not work with this pytest), so the app and its database path are fixed here; the
# database itself is made and seeded by the ``fuzz_token`` fixture before the first request.
_DIR = Path(tempfile.mkdtemp(prefix="casecal-fuzz-"))
_URL = f"sqlite+aiosqlite:///{_DIR / 'fuzz.db'}"
APP = create_app(
    Settings(data_dir=_DIR, database_url=_URL, secret_keys=["fuzz-key"], embedded_scheduler=False)
)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP).include(path_regex="^/api/v1/")


@pytest.fixture(scope="module")
def fuzz_token(sqlite_template: Path) -> Iterator[str]:
    shutil.copy(sqlite_template, _DIR / "fuzz.db")
    yield asyncio.run(_seed(_URL))
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any, fuzz_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
