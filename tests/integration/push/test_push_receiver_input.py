"""What no input can do to the push receivers: malformed bodies and headers answer 400, big
bodies 413, never a 5xx (examples from the field, then hypothesis throwing random JSON and
headers at both); replayed Google notifications without a message number count once per
channel per short window; a message number implausibly far ahead does not silence the
channel. Parsing cases run on SQLite; whatever reaches the database (control characters,
message numbers, the property) runs on PostgreSQL too."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from casecal.auth.encryption import secret_material
from casecal.services.firms import create_firm
from casecal.services.push_receipts import MESSAGE_NUMBER_RESET, UNNUMBERED_WINDOW
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    ProviderName,
    PushChannelRow,
    User,
    utcnow,
)
from casecal.web.schemas.webhooks import MAX_BODY_BYTES

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)

SECRET = "the-channel-secret"
GOOGLE_CHANNEL, GOOGLE_RESOURCE, GRAPH_SUBSCRIPTION = "g-channel", "g-resource", "m-subscription"


@dataclass
class Receivers:
    app: FastAPI
    api: httpx.AsyncClient
    connection_id: uuid.UUID

    async def graph(self, body: bytes | str, path: str = "/webhooks/microsoft") -> int:
        response = await self.api.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
        return response.status_code

    async def google(self, **headers: str) -> int:
        base = {
            "X-Goog-Channel-ID": GOOGLE_CHANNEL, "X-Goog-Channel-Token": SECRET,
            "X-Goog-Resource-ID": GOOGLE_RESOURCE, "X-Goog-Resource-State": "exists",
        }  # fmt: skip
        sent = {**base, **headers}
        response = await self.api.post(
            "/webhooks/google", headers={k: v for k, v in sent.items() if v != "-"}
        )
        return response.status_code

    def outcome(self, provider: str, outcome: str) -> float:
        labels = {"provider": provider, "outcome": outcome}
        value: float = self.app.state.metrics.value("casecal_webhook_notifications_total", labels)
        return value


def graph_item(**fields: Any) -> dict[str, Any]:
    item = {"subscriptionId": GRAPH_SUBSCRIPTION, "clientState": SECRET, "changeType": "updated",
            "resourceData": {"id": "event-1", "@odata.etag": 'W/"1"'}}  # fmt: skip
    item.update(fields)
    return item


@pytest.fixture
async def receivers(app: FastAPI, client: httpx.AsyncClient) -> Receivers:
    """One Google channel and one Graph subscription of a connection, with a known secret."""
    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as session:
        firm = await create_firm(session, name="Push Firm", admin_email="a@push.example",
                                 admin_name="Admin")  # fmt: skip
    connection_id = uuid.uuid4()
    key = secret_material(app.state.settings)[0]
    digest = hmac.new(key.encode(), SECRET.encode(), hashlib.sha256).hexdigest()
    expires = utcnow() + timedelta(days=1)
    async with sessionmaker() as session, session.begin():
        user = await session.get(User, firm.admin_user_id)
        assert user is not None
        session.add(Connection(id=connection_id, firm_id=firm.firm_id, user_id=user.id,
                               provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                               calendar_id="primary"))  # fmt: skip
        await session.flush()
        for provider, channel_id, resource in (
            (ProviderName.GOOGLE, GOOGLE_CHANNEL, GOOGLE_RESOURCE),
            (ProviderName.MICROSOFT, GRAPH_SUBSCRIPTION, None),
        ):
            session.add(PushChannelRow(firm_id=firm.firm_id, connection_id=connection_id,
                                       provider=provider, channel_id=channel_id,
                                       resource_id=resource, secret_digest=digest,
                                       expires_at=expires))  # fmt: skip
    return Receivers(app, client, connection_id)


DEEP = "[" * 100_000 + "]" * 100_000


@SQLITE_ONLY
@pytest.mark.parametrize(
    "body",
    [
        '{"value": null}',
        '{"value": 5}',
        '{"value": true}',
        '{"value": "x"}',
        '{"value": {}}',
        f'{{"value": {DEEP}}}',
        DEEP,
        f'{{"value": [], "extra": {DEEP}}}',
        "null",
        "5",
        '"value"',
        "[]",
        "{",
        "",
        '{"value": [5]}',
        '{"value": [null]}',
        json.dumps({"value": [graph_item(clientState=5)]}),
        json.dumps({"value": [graph_item(clientState={"a": 1})]}),
        json.dumps({"value": [graph_item(subscriptionId=7)]}),
        json.dumps({"value": [graph_item(resourceData=[1])]}),
        json.dumps({"value": [graph_item(lifecycleEvent=True)]}),
        json.dumps({"value": [graph_item(subscriptionId="x" * 10_000)]}),
        b'{"value": [\xff]}'.decode("latin-1"),
    ],
    ids=lambda body: body[:30],
)
async def test_a_malformed_graph_body_is_a_400_and_the_next_request_is_served(
    receivers: Receivers, body: str
) -> None:
    for path in ("/webhooks/microsoft", "/webhooks/microsoft/lifecycle"):
        assert await receivers.graph(body, path) == 400
    assert await receivers.graph(json.dumps({"value": [graph_item()]})) == 202
    assert receivers.outcome("microsoft", "accepted") == 1


@SQLITE_ONLY
async def test_a_body_beyond_the_bound_is_a_413(receivers: Receivers) -> None:
    padding = "x" * MAX_BODY_BYTES
    big = json.dumps({"value": [graph_item()], "padding": padding})
    assert await receivers.graph(big) == 413
    response = await receivers.api.post(
        "/webhooks/google",
        content=padding.encode() * 2,
        headers={"X-Goog-Channel-ID": GOOGLE_CHANNEL, "X-Goog-Resource-State": "exists"},
    )
    assert response.status_code == 413

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(10):
            yield padding.encode()[: MAX_BODY_BYTES // 4]

    response = await receivers.api.post("/webhooks/microsoft", content=streamed())
    assert response.status_code == 413
    assert await receivers.graph(json.dumps({"value": [graph_item()]})) == 202


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Goog-Message-Number": str(2**64)},
        {"X-Goog-Message-Number": str(2**63)},
        {"X-Goog-Message-Number": "9" * 400},
        {"X-Goog-Message-Number": "-1"},
        {"X-Goog-Message-Number": "1_000"},
        {"X-Goog-Message-Number": " 5"},
        {"X-Goog-Message-Number": "5.0"},
        {"X-Goog-Message-Number": ""},
        {"X-Goog-Resource-State": "deleted"},
        {"X-Goog-Resource-State": "-"},
        {"X-Goog-Channel-ID": "-"},
        {"X-Goog-Channel-ID": ""},
        {"X-Goog-Channel-Token": "t" * 1000},
    ],
    ids=lambda headers: repr(headers)[:40],
)
async def test_malformed_google_headers_are_a_400(
    receivers: Receivers, headers: dict[str, str]
) -> None:
    assert await receivers.google(**headers) == 400
    assert await receivers.google(**{"X-Goog-Message-Number": "3"}) == 200
    assert receivers.outcome("google", "accepted") == 1


async def test_the_largest_64_bit_message_number_is_kept(receivers: Receivers) -> None:
    assert await receivers.google(**{"X-Goog-Message-Number": str(2**63 - 1)}) == 200
    assert await receivers.google(**{"X-Goog-Message-Number": str(2**63 - 1)}) == 200
    assert receivers.outcome("google", "accepted") == 1
    assert receivers.outcome("google", "duplicate") == 1


@SQLITE_ONLY
async def test_a_google_notification_without_a_number_counts_once_per_window(
    receivers: Receivers,
) -> None:
    unnumbered = {"X-Goog-Message-Number": "-"}
    for _ in range(5):  # replayed
        assert await receivers.google(**unnumbered) == 200
    assert receivers.outcome("google", "accepted") == 1
    assert receivers.outcome("google", "duplicate") == 4
    assert await receivers.google(**unnumbered, **{"X-Goog-Resource-State": "not_exists"}) == 200
    assert receivers.outcome("google", "duplicate") == 5  # one per channel, whatever the state
    async with receivers.app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(PushChannelRow).values(
                last_unnumbered_at=utcnow() - UNNUMBERED_WINDOW - timedelta(seconds=1)
            )
        )
    assert await receivers.google(**unnumbered) == 200
    assert receivers.outcome("google", "accepted") == 2
    numbered = {"X-Goog-Message-Number": "4"}
    assert await receivers.google(**numbered) == 200  # numbered ones are judged by number
    assert await receivers.google(**numbered) == 200
    assert receivers.outcome("google", "accepted") == 3


async def test_a_number_implausibly_far_ahead_does_not_silence_the_channel(
    receivers: Receivers,
) -> None:
    """One notification numbered 2**63 - 1 (whoever holds the token) used to make every later
    number a duplicate: a number far below the last one restarts the count from it."""
    number = {"X-Goog-Message-Number": str(2**63 - 1)}
    assert await receivers.google(**number) == 200
    for then, outcome, total in (("6", "accepted", 2), ("6", "duplicate", 1),
                                 ("7", "accepted", 3), ("5", "duplicate", 2)):  # fmt: skip
        assert await receivers.google(**{"X-Goog-Message-Number": then}) == 200
        assert receivers.outcome("google", outcome) == total
    ahead = 8 + MESSAGE_NUMBER_RESET + 1
    assert await receivers.google(**{"X-Goog-Message-Number": str(ahead)}) == 200
    assert await receivers.google(**{"X-Goog-Message-Number": "8"}) == 200  # restarts again
    assert await receivers.google(**{"X-Goog-Message-Number": str(ahead - 1)}) == 200
    assert receivers.outcome("google", "accepted") == 6
    assert receivers.outcome("google", "duplicate") == 2


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "a\x1fb", "\x7f"])
async def test_control_characters_are_a_400_not_a_database_error(
    receivers: Receivers, bad: str
) -> None:
    """PostgreSQL refuses a NUL in text: a NUL (or any control character) in an id, secret or
    state is malformed, before any query."""
    for field in ("subscriptionId", "clientState", "changeType", "resource"):
        body = json.dumps({"value": [graph_item(**{field: bad})]})
        for path in ("/webhooks/microsoft", "/webhooks/microsoft/lifecycle"):
            assert await receivers.graph(body, path) == 400, field
    body = json.dumps({"value": [graph_item(resourceData={"id": bad})]})
    assert await receivers.graph(body) == 400
    for header in ("X-Goog-Channel-ID", "X-Goog-Channel-Token", "X-Goog-Resource-ID"):
        assert await receivers.google(**{header: bad}) == 400, header
    assert await receivers.graph(json.dumps({"value": [graph_item()]})) == 202
    assert await receivers.google(**{"X-Goog-Message-Number": "1"}) == 200


# --- the property: random JSON and headers, never a 5xx ---------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)
GRAPH_ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "subscriptionId": st.sampled_from([GRAPH_SUBSCRIPTION, "unknown"]) | JSON,
        "clientState": st.sampled_from([SECRET, "forged"]) | JSON,
        "changeType": st.sampled_from(["created", "updated", "deleted"]) | JSON,
        "resource": JSON,
        "resourceData": st.fixed_dictionaries(
            {}, optional={"id": JSON, "@odata.etag": JSON, "@odata.type": JSON}
        )
        | JSON,
        "lifecycleEvent": st.sampled_from(
            ["missed", "subscriptionRemoved", "reauthorizationRequired"]
        )
        | JSON,
    },
)
GRAPH_BODIES = (
    st.fixed_dictionaries({"value": st.lists(GRAPH_ITEMS | JSON, max_size=4) | JSON}).map(
        json.dumps
    )
    | JSON.map(json.dumps)
    | st.binary(max_size=64).map(lambda b: b.decode("latin-1"))
)
HEADER_TEXT = st.text(  # any latin-1 character a header can carry (not CR or LF)
    st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=40
)
GOOGLE_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Goog-Channel-ID": st.sampled_from([GOOGLE_CHANNEL, "unknown"]) | HEADER_TEXT,
        "X-Goog-Channel-Token": st.sampled_from([SECRET, "forged"]) | HEADER_TEXT,
        "X-Goog-Resource-ID": st.sampled_from([GOOGLE_RESOURCE]) | HEADER_TEXT,
        "X-Goog-Resource-State": st.sampled_from(["sync", "exists", "not_exists"]) | HEADER_TEXT,
        "X-Goog-Message-Number": st.integers(-(2**70), 2**70).map(str) | HEADER_TEXT,
    },
)


async def _never_a_5xx(receivers: Receivers, body: str, headers: dict[str, str], path: str) -> None:
    graph = await receivers.api.post(
        f"/webhooks/microsoft{path}", content=body.encode("utf-8", "surrogatepass")
    )
    assert graph.status_code in (202, 400, 403), graph.text
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    google = await receivers.api.post("/webhooks/google", headers=raw)
    assert google.status_code in (200, 400, 401), google.text


FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


@SQLITE_ONLY
@settings(**FUZZ)  # type: ignore[arg-type]
@given(body=GRAPH_BODIES, headers=GOOGLE_HEADERS, path=st.sampled_from(["", "/lifecycle"]))
async def test_no_input_makes_a_receiver_fail(
    receivers: Receivers, body: str, headers: dict[str, str], path: str
) -> None:
    await _never_a_5xx(receivers, body, headers, path)


@POSTGRES_ONLY
@settings(max_examples=40, **FUZZ)  # type: ignore[arg-type]
@given(body=GRAPH_BODIES, headers=GOOGLE_HEADERS, path=st.sampled_from(["", "/lifecycle"]))
async def test_no_input_makes_a_receiver_fail_on_postgres(
    receivers: Receivers, body: str, headers: dict[str, str], path: str
) -> None:
    """The same on PostgreSQL, which refuses what SQLite stores (a NUL in text), with fewer
    examples: each costs a round trip to the server."""
    await _never_a_5xx(receivers, body, headers, path)


@SQLITE_ONLY
@pytest.mark.parametrize("event", ["subscriptionRemoved", "reauthorizationRequired"])
async def test_a_lifecycle_event_the_provider_cannot_serve_leaves_a_resync(
    receivers: Receivers, event: str
) -> None:
    """The app's channel manager cannot reach a provider for this connection (it has no
    tokens): the notification is still answered, and the connection resyncs."""
    body = json.dumps({"value": [graph_item(lifecycleEvent=event)]})
    assert await receivers.graph(body, "/webhooks/microsoft/lifecycle") == 202
    async with receivers.app.state.sessionmaker() as session:
        connection = await session.get(Connection, receivers.connection_id)
        assert connection is not None
        assert connection.sync_requested_at is not None


@SQLITE_ONLY
async def test_a_keep_alive_connection_survives_malformed_notifications(
    receivers: Receivers,
) -> None:
    """Over real HTTP: the connection a malformed body came on serves the next request."""
    config = uvicorn.Config(receivers.app, host="127.0.0.1", port=0, lifespan="off", ws="none",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while True:
                if server.started:
                    break
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as http:
            for body in ('{"value": null}', f'{{"value": {DEEP}}}', '{"value": true}'):
                response = await http.post("/webhooks/microsoft", content=body)
                assert response.status_code == 400
                assert response.headers.get("connection") != "close"
            ok = await http.post("/webhooks/microsoft", json={"value": [graph_item()]})
            assert ok.status_code == 202
    finally:
        server.should_exit = True
        await serving
