"""The providers' fast JSON decoding and Graph's wall-time parsing answer as the standard
library does: same values, and ``ValueError`` where it raises one."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.providers.msgraph.json import _wall_time
from casecal.providers.wirejson import loads

DOCUMENTS = [
    b'{"value": [{"id": "a", "subject": "\\u00e9t\\u00e9 \xe2\x9c\x93", "n": 3}]}',
    b'{"a": 1, "a": 2}',
    b"[1.5, -0, 1e400, true, null]",
    b'"\\ud800"',  # a lone surrogate: orjson refuses, json reads it
    b"[NaN, Infinity]",
    b"\xef\xbb\xbf{}",  # a UTF-8 BOM
    '{"k": "v"}'.encode("utf-16"),
    "{}",
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("document", DOCUMENTS)
def test_documents_decode_as_json_decodes_them(document: bytes | str) -> None:
    assert _same(loads(document), json.loads(document))


@pytest.mark.parametrize("document", [b"", b"{", b"<html>", b"\xff\xfe\x00"])
def test_what_is_not_json_raises_a_value_error(document: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):
        json.loads(document)
    with pytest.raises(ValueError, match=r"."):
        loads(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.floats(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_any_document_decodes_as_json_decodes_it(value: Any) -> None:
    document = json.dumps(value).encode("utf-8")
    assert _same(loads(document), json.loads(document))


_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _strptime(text: str) -> datetime | str:
    try:
        return datetime.strptime(text, _FORMAT)
    except ValueError:
        return "ValueError"


def _fast(text: str) -> datetime | str:
    try:
        return _wall_time(text)
    except ValueError:
        return "ValueError"


def test_graph_wall_times_read_as_strptime_reads_them() -> None:
    for year in ("0000", "0001", "2024", "2026", "9999"):
        for month in ("00", "01", "02", "12", "13"):
            for day in ("00", "01", "28", "29", "30", "31", "32"):
                for clock in ("00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"):
                    text = f"{year}-{month}-{day}T{clock}"
                    assert _fast(text) == _strptime(text), text


@given(st.text(alphabet="0123456789-T: +Z.\u0661", min_size=0, max_size=19))
def test_any_text_reads_as_strptime_reads_it(text: str) -> None:
    assert _fast(text) == _strptime(text)
