"""Operations endpoints: liveness, readiness, request ids and who may read the metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from casecal.config import Settings
from casecal.web.app import create_app


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


async def test_unknown_path_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


# -- /metrics is not public ----------------------------------------------------------------

TOKEN = "metrics-token-for-tests"


@asynccontextmanager
async def _client(app: FastAPI, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the app from ``peer`` (the socket's address)."""
    transport = httpx.ASGITransport(app=app, client=(peer, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def token_app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with ``CASECAL_METRICS_TOKEN`` set (the default leaves it empty)."""
    application = create_app(app_settings.model_copy(update={"metrics_token": TOKEN}))
    async with LifespanManager(application):
        yield application


def _refused_without_leak(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert "casecal_" not in response.text  # no metric, and not the token either
    assert TOKEN not in response.text


async def test_metrics_by_default_answer_loopback_clients(app: FastAPI) -> None:
    for peer in ("127.0.0.1", "::1"):
        async with _client(app, peer) as c:
            served = await c.get("/metrics")
        assert served.status_code == 200
        assert "casecal_sync_passes" in served.text


async def test_metrics_by_default_refuse_other_clients(app: FastAPI) -> None:
    for peer in ("203.0.113.9", "10.0.0.5", "testclient"):
        async with _client(app, peer) as c:
            _refused_without_leak(await c.get("/metrics"), 403)
            # a forwarded header claiming loopback is not believed
            _refused_without_leak(await c.get("/metrics", headers=_LOOPBACK_CLAIM), 403)


_LOOPBACK_CLAIM = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}


async def test_metrics_through_a_local_proxy_are_refused(app: FastAPI) -> None:
    """The proxy's own address is loopback; a request it forwards is not a local client."""
    async with _client(app, "127.0.0.1") as c:
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            _refused_without_leak(await c.get("/metrics", headers={header: "203.0.113.9"}), 403)


async def test_metrics_with_a_token_need_it_from_everyone(token_app: FastAPI) -> None:
    for peer in ("203.0.113.9", "127.0.0.1"):
        async with _client(token_app, peer) as c:
            missing = await c.get("/metrics")
            _refused_without_leak(missing, 401)
            assert missing.headers["www-authenticate"].startswith("Bearer")
            for wrong in ("Bearer nope", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN):
                _refused_without_leak(
                    await c.get("/metrics", headers={"Authorization": wrong}), 401
                )
            served = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert served.status_code == 200
            assert "casecal_sync_passes" in served.text
