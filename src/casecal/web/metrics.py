"""Prometheus metrics, one registry per app: passes, pass duration, change latency both ways,
provider requests by status, throttling, queue depth, connections by state, webhook outcomes;
served at ``GET /metrics`` to the holder of the metrics token, or to loopback clients when
none is set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import httpx
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from casecal.providers._http import parse_retry_after
from casecal.services.operations import connections_by_status
from casecal.sync.triggers import RetryAfterBook
from casecal.web.metrics_access import metrics_refusal
from casecal.web.problems import problem

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Metrics:
    """Every CaseCal metric; implements the scheduler's ``PassObserver``."""

    def __init__(self, hosts: Mapping[str, str] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.hosts = dict(hosts or {})
        """Provider name by API host name, for labelling outgoing requests."""
        self.retry_after = RetryAfterBook()
        r = self.registry
        self.passes = Counter(
            "casecal_sync_passes", "Sync passes run", ["outcome", "trigger"], registry=r
        )
        self.pass_seconds = Histogram(
            "casecal_sync_pass_duration_seconds", "Duration of one sync pass",
            buckets=PASS_BUCKETS, registry=r,
        )  # fmt: skip
        self.change_latency = Histogram(
            "casecal_change_latency_seconds",
            "From a change on one side to its arrival on the other",
            ["direction"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.requests = Counter(
            "casecal_provider_requests", "Requests to providers", ["provider", "status"],
            registry=r,
        )  # fmt: skip
        self.throttled = Counter(
            "casecal_provider_throttled", "Provider answers that throttled us", ["provider"],
            registry=r,
        )  # fmt: skip
        self.queue = Gauge(
            "casecal_scheduler_queue_depth", "Connections waiting or running", ["state"],
            registry=r,
        )  # fmt: skip
        self.connections = Gauge(
            "casecal_connections", "Connections by status", ["status"], registry=r
        )
        self.notifications = Counter(
            "casecal_webhook_notifications", "Incoming push notifications by outcome",
            ["provider", "outcome"], registry=r,
        )  # fmt: skip

    # -- PassObserver ----------------------------------------------------------------------
    def pass_finished(self, outcome: str, seconds: float, trigger: str) -> None:
        self.passes.labels(outcome=outcome, trigger=trigger).inc()
        self.pass_seconds.observe(seconds)

    def change_latency_observed(self, direction: str, seconds: float) -> None:
        self.change_latency.labels(direction=direction).observe(seconds)

    def queue_depth(self, pending: int, running: int) -> None:
        self.queue.labels(state="pending").set(pending)
        self.queue.labels(state="running").set(running)

    def notification(self, provider: str, outcome: str) -> None:
        self.notifications.labels(provider=provider, outcome=outcome).inc()

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        """One sample's current value (0 when absent): for health checks and tests."""
        found = self.registry.get_sample_value(name, dict(labels or {}))
        return found if found is not None else 0.0

    # -- outgoing HTTP ---------------------------------------------------------------------
    def response_hook(self) -> Callable[[httpx.Response], Awaitable[None]]:
        """An httpx ``response`` event hook counting requests and throttling per provider and
        noting ``Retry-After`` for the connection whose pass sent the request."""

        async def hook(response: httpx.Response) -> None:
            provider = self.hosts.get(response.request.url.host, "other")
            status = response.status_code
            self.requests.labels(provider=provider, status=str(status)).inc()
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 or (status == 503 and wait is not None):
                self.throttled.labels(provider=provider).inc()
                self.retry_after.note(wait)

        return hook

    def render(self) -> bytes:
        return generate_latest(self.registry)


def provider_hosts(google_api_base_url: str, microsoft_graph_base_url: str) -> dict[str, str]:
    return {
        httpx.URL(google_api_base_url).host: "google",
        httpx.URL(microsoft_graph_base_url).host: "microsoft",
    }


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    token: str = request.app.state.settings.metrics_token
    peer = request.client.host if request.client else None
    refused = metrics_refusal(token, peer, request.headers)
    if refused == 401:
        response = problem(401, "Unauthorized", "a valid metrics token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if refused is not None:
        return problem(403, "Forbidden", "metrics are served to local clients only")
    metrics: Metrics = request.app.state.metrics
    async with request.app.state.sessionmaker() as session:
        counts = await connections_by_status(session)
    for status, count in counts.items():
        metrics.connections.labels(status=status.value).set(count)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
