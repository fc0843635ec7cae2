"""JSON columns go through orjson (``store.db.json_dumps`` / ``json_loads``): the values read
back are those ``json`` would give, and what ``json`` refuses is still refused."""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from casecal.store.db import json_dumps, json_loads, make_engine


class Kind(enum.StrEnum):
    COURT = "court_date"


VALUES: list[Any] = [
    {"a": [1, 2.5, None, True], "b": {"c": "é\u2028\U0001f600"}},
    {Kind.COURT: 3},  # a str-enum key, as json writes it
    {1: "one"},  # json turns the key into a string; so does the fallback
    {"big": 2**70},  # past 64 bits: json's digits
    [],
    "text",
]

metadata = MetaData()
docs = Table("docs", metadata, Column("id", Integer, primary_key=True), Column("doc", JSON()))


@pytest.mark.parametrize("value", VALUES)
def test_the_text_reads_back_as_json_reads_it(value: Any) -> None:
    stored = json_dumps(value)
    assert json.loads(stored) == json.loads(json.dumps(value))
    assert json_loads(stored) == json.loads(json.dumps(value))


def test_what_json_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        json_dumps({"at": datetime.now(UTC)})


def test_text_orjson_refuses_is_read_by_json() -> None:
    assert json_loads('{"x": NaN}')["x"] != json_loads('{"x": NaN}')["x"]  # NaN


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'json.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_the_engine_stores_json_columns_through_orjson(engine: AsyncEngine) -> None:
    value = {"counts": {"in": {"appointment.create": 3}}, "ids": ["a", "b"]}
    async with engine.begin() as conn:
        await conn.execute(insert(docs).values(id=1, doc=value))
        raw = await conn.scalar(text("SELECT doc FROM docs WHERE id = 1"))
        assert raw == orjson.dumps(value).decode()  # orjson's compact text, not json's
        assert await conn.scalar(select(docs.c.doc)) == value


async def test_the_engine_refuses_what_json_refuses(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        with pytest.raises(StatementError):
            await conn.execute(insert(docs).values(id=2, doc={"at": datetime.now(UTC)}))
