"""Every free string the API accepts refuses control characters, so none reaches the database
(PostgreSQL refuses a NUL in text and answered 500). Checked over the OpenAPI document, so a
field added later without a pattern fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from casecal.config import Settings
from casecal.web.app import create_app
from casecal.web.schemas.webhooks import GoogleNotification, GraphNotifications

HOSTILE = ["a\x00b", "a\x01b", "a\x1fb", "a\x7fb"]
"""Values every free string must refuse (tabs and line breaks are fine in free text)."""


def _strings(node: Any, where: str, document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every string schema under ``node``, with where it sits, following ``$ref``s."""
    if isinstance(node, list):
        return [s for i, item in enumerate(node) for s in _strings(item, f"{where}[{i}]", document)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _strings(document["components"]["schemas"][name], name, document)
    found = [(where, node)] if node.get("type") == "string" else []
    for key, value in node.items():
        if key in {"properties"}:
            for prop, schema in value.items():
                found += _strings(schema, f"{where}.{prop}", document)
        elif key in {"items", "anyOf", "oneOf", "allOf", "additionalProperties"}:
            found += _strings(value, where, document)
    return found


def _free(schema: dict[str, Any]) -> bool:
    """A string that is not an enum or a parsed format (uuid, date, date-time)."""
    return "enum" not in schema and "const" not in schema and "format" not in schema


def _accepts(schema: dict[str, Any], value: str) -> bool:
    pattern = schema.get("pattern")
    return pattern is None or re.search(pattern, value) is not None


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home: Path = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        data_dir=home, database_url=f"sqlite+aiosqlite:///{home}/x.db", secret_keys=["k"]
    )
    return create_app(settings).openapi()


def test_every_request_string_refuses_control_characters(document: dict[str, Any]) -> None:
    holes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            inputs: list[tuple[str, dict[str, Any]]] = []
            for parameter in operation.get("parameters", []):
                inputs += _strings(parameter["schema"], parameter["name"], document)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                inputs += _strings(media["schema"], "body", document)
            holes += [
                f"{method.upper()} {path} {where}"
                for where, schema in inputs
                if _free(schema) and any(_accepts(schema, bad) for bad in HOSTILE)
            ]
    assert holes == []


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize(
    "field", ["subscriptionId", "clientState", "changeType", "resource", "lifecycleEvent"]
)
def test_graph_notifications_refuse_control_characters(field: str, bad: str) -> None:
    note = {"subscriptionId": "sub-1", "clientState": "s", field: bad}
    with pytest.raises(ValueError, match=field):
        GraphNotifications.model_validate({"value": [note]})


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize("field", ["id", "@odata.etag"])
def test_graph_resource_data_refuses_control_characters(field: str, bad: str) -> None:
    note = {"subscriptionId": "sub-1", "resourceData": {field: bad}}
    with pytest.raises(ValueError, match=field):
        GraphNotifications.model_validate({"value": [note]})


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize("field", ["channel_id", "token", "resource_id"])
def test_google_headers_refuse_control_characters(field: str, bad: str) -> None:
    headers = {"channel_id": "ch-1", "resource_state": "exists", field: bad}
    with pytest.raises(ValueError, match=field):
        GoogleNotification.model_validate(headers)
