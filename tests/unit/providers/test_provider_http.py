"""The shared HTTP layer's rules, against ``httpx.MockTransport`` servers and a recording sleep:
what is retried and how long it waits, ``Retry-After``, 401 -> one refresh, the concurrency
limit, and the status -> error mapping."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from casecal.providers import (
    AuthExpired,
    HttpLayer,
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
    RateLimited,
    RetryPolicy,
    Transient,
)
from casecal.providers._http import default_error

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class FakeTokens:
    """Hands out ``token-0``; each refresh moves to the next number."""

    def __init__(self) -> None:
        self.current = "token-0"
        self.refreshes = 0

    async def access_token(self) -> str:
        return self.current

    async def refresh(self, failed: str | None = None) -> str:
        self.refreshes += 1
        self.current = f"token-{self.refreshes}"
        return self.current


class RecordingSleep:
    """Records every wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def classify(response: httpx.Response) -> ProviderError:
    return default_error(response.status_code, provider="test", retry_after=None)


class Rig:
    def __init__(self, handler: Handler, **layer: object) -> None:
        self.requests: list[httpx.Request] = []
        self.tokens = FakeTokens()
        self.sleep = RecordingSleep()

        async def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            result = handler(request)
            return result if isinstance(result, httpx.Response) else await result

        self.client = httpx.AsyncClient(
            transport=httpx.MockTransport(record), base_url="http://api.test"
        )
        self.http = HttpLayer(
            self.client,
            self.tokens,
            classify,
            provider="test",
            sleep=self.sleep,
            rng=random.Random(7),
            now=lambda: NOW,
            **layer,  # type: ignore[arg-type]
        )


def scripted(*responses: httpx.Response | Exception) -> Handler:
    """Answers with the given responses in order (an exception is raised), then 200."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if not queue:
            return httpx.Response(200, json={"ok": True})
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


async def test_5xx_on_get_is_retried_with_growing_jittered_backoff() -> None:
    rig = Rig(scripted(*[httpx.Response(500) for _ in range(3)]))
    body = await rig.http.json("GET", "/x")
    assert body == {"ok": True}
    assert len(rig.requests) == 4
    assert [int(w) for w in rig.sleep.waits] == [1, 2, 4]
    assert all(0 < w % 1 < 1 for w in rig.sleep.waits), "jitter adds a fraction of a second"


async def test_retries_stop_after_max_attempts_with_transient() -> None:
    rig = Rig(scripted(*[httpx.Response(503) for _ in range(10)]))
    with pytest.raises(Transient) as caught:
        await rig.http.request("GET", "/x")
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.status == 503
    assert len(rig.requests) == 5
    assert len(rig.sleep.waits) == 4


async def test_backoff_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(max_attempts=8, max_delay=5.0, budget=1000)
    rig = Rig(scripted(*[httpx.Response(502) for _ in range(7)]), policy=policy)
    await rig.http.request("GET", "/x")
    assert max(rig.sleep.waits) == 5.0
    assert rig.sleep.waits[-3:] == [5.0, 5.0, 5.0]


async def test_post_without_idempotency_key_is_not_retried_on_5xx() -> None:
    rig = Rig(scripted(httpx.Response(502)))
    with pytest.raises(Transient):
        await rig.http.request("POST", "/x", json={})
    assert len(rig.requests) == 1
    assert rig.sleep.waits == []


async def test_post_with_idempotency_key_is_retried_on_5xx() -> None:
    rig = Rig(scripted(httpx.Response(502)))
    await rig.http.request("POST", "/x", json={}, idempotent=True)
    assert len(rig.requests) == 2


async def test_read_timeout_is_retried_for_get_but_not_for_plain_post() -> None:
    rig = Rig(scripted(httpx.ReadTimeout("slow")))
    await rig.http.request("GET", "/x")
    assert len(rig.requests) == 2

    rig = Rig(scripted(httpx.ReadTimeout("slow")))
    with pytest.raises(Transient) as caught:
        await rig.http.request("POST", "/x", json={})
    assert caught.value.reason == "transport"
    assert len(rig.requests) == 1


async def test_connect_error_is_retried_even_for_post_because_nothing_was_sent() -> None:
    rig = Rig(scripted(httpx.ConnectError("refused")))
    await rig.http.request("POST", "/x", json={})
    assert len(rig.requests) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_429_waits_exactly_retry_after_seconds(method: str) -> None:
    rig = Rig(scripted(httpx.Response(429, headers={"Retry-After": "7"})))
    await rig.http.request(method, "/x")
    assert rig.sleep.waits == [7.0]
    assert len(rig.requests) == 2


async def test_503_with_retry_after_is_honoured() -> None:
    rig = Rig(scripted(httpx.Response(503, headers={"Retry-After": "3"})))
    await rig.http.request("GET", "/x")
    assert rig.sleep.waits == [3.0]


async def test_retry_after_as_http_date() -> None:
    rig = Rig(
        scripted(httpx.Response(429, headers={"Retry-After": "Sun, 01 Mar 2026 12:00:12 GMT"}))
    )
    await rig.http.request("GET", "/x")
    assert rig.sleep.waits == [12.0]


async def test_429_without_retry_after_falls_back_to_backoff() -> None:
    rig = Rig(scripted(httpx.Response(429)))
    await rig.http.request("GET", "/x")
    assert len(rig.sleep.waits) == 1
    assert rig.sleep.waits[0] >= 1.0
    assert rig.sleep.waits[0] < 2.0


async def test_retry_after_beyond_the_cap_raises_rate_limited_without_waiting() -> None:
    rig = Rig(scripted(httpx.Response(429, headers={"Retry-After": "3600"})))
    with pytest.raises(RateLimited) as caught:
        await rig.http.request("GET", "/x")
    assert caught.value.retry_after == 3600.0
    assert rig.sleep.waits == []
    assert len(rig.requests) == 1


async def test_spent_wait_budget_raises_rate_limited_with_the_providers_wish() -> None:
    policy = RetryPolicy(budget=25.0)
    rig = Rig(
        scripted(*[httpx.Response(429, headers={"Retry-After": "10"}) for _ in range(5)]),
        policy=policy,
    )
    with pytest.raises(RateLimited) as caught:
        await rig.http.request("GET", "/x")
    assert rig.sleep.waits == [10.0, 10.0]
    assert caught.value.retry_after == 10.0
    assert len(rig.requests) == 3


async def test_401_refreshes_once_and_retries_with_the_new_token() -> None:
    rig = Rig(scripted(httpx.Response(401)))
    await rig.http.request("GET", "/x")
    assert rig.tokens.refreshes == 1
    assert [r.headers["Authorization"] for r in rig.requests] == [
        "Bearer token-0",
        "Bearer token-1",
    ]
    assert rig.sleep.waits == []


async def test_second_401_after_refresh_is_auth_expired() -> None:
    rig = Rig(scripted(httpx.Response(401), httpx.Response(401), httpx.Response(401)))
    with pytest.raises(AuthExpired):
        await rig.http.request("GET", "/x")
    assert rig.tokens.refreshes == 1
    assert len(rig.requests) == 2


async def test_4xx_is_final_and_not_retried() -> None:
    rig = Rig(scripted(httpx.Response(412)))
    with pytest.raises(PreconditionFailed):
        await rig.http.request("PUT", "/x", json={})
    assert len(rig.requests) == 1


async def test_304_is_returned_as_success() -> None:
    rig = Rig(scripted(httpx.Response(304)))
    response = await rig.http.request("GET", "/x")
    assert response.status_code == 304


async def test_default_headers_are_sent_and_call_headers_win() -> None:
    rig = Rig(scripted(), headers={"Prefer": "a", "X-One": "1"})
    await rig.http.request("GET", "/x", headers={"Prefer": "b"})
    sent = rig.requests[0].headers
    assert sent["Prefer"] == "b"
    assert sent["X-One"] == "1"


async def test_no_more_than_max_concurrency_requests_in_flight() -> None:
    in_flight = 0
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    rig = Rig(slow, max_concurrency=4)
    await asyncio.gather(*(rig.http.request("GET", f"/x/{i}") for i in range(12)))
    assert len(rig.requests) == 12
    assert peak == 4


async def test_a_shared_semaphore_limits_several_layers_of_one_account() -> None:
    in_flight = 0
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    shared = asyncio.Semaphore(2)
    rigs = [Rig(slow, semaphore=shared) for _ in range(3)]
    await asyncio.gather(*(r.http.request("GET", "/x") for r in rigs for _ in range(3)))
    assert peak == 2


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, None, RateLimited),
        (503, 5.0, RateLimited),
        (503, None, Transient),
        (500, None, Transient),
        (504, None, Transient),
        (404, None, NotFound),
        (410, None, NotFound),
        (412, None, PreconditionFailed),
        (401, None, AuthExpired),
        (400, None, PermanentError),
        (403, None, PermanentError),
    ],
)
def test_default_status_mapping(
    status: int, retry_after: float | None, expected: type[ProviderError]
) -> None:
    error = default_error(status, provider="p", retry_after=retry_after)
    assert type(error) is expected
    assert error.status == status


async def test_throttling_503_with_retry_after_is_retried_even_for_post() -> None:
    rig = Rig(scripted(httpx.Response(503, headers={"Retry-After": "2"})))
    await rig.http.request("POST", "/x", json={})
    assert rig.sleep.waits == [2.0]
    assert len(rig.requests) == 2


async def test_concurrent_401s_share_one_refresh() -> None:
    from casecal.providers import RefreshingTokenSource

    grants = 0

    async def server(request: httpx.Request) -> httpx.Response:
        nonlocal grants
        if request.url.path == "/token":
            grants += 1
            await asyncio.sleep(0.01)
            return httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600})
        if request.headers["Authorization"] != "Bearer fresh":
            return httpx.Response(401)
        return httpx.Response(200, json={})

    client = httpx.AsyncClient(transport=httpx.MockTransport(server), base_url="http://api.test")
    tokens = RefreshingTokenSource(
        client,
        "http://api.test/token",
        client_id="c",
        client_secret="s",
        refresh_token="r",
        provider="test",
        access_token="stale",
        expires_at=10**12,
    )
    http = HttpLayer(client, tokens, classify, provider="test", sleep=RecordingSleep())
    await asyncio.gather(*(http.request("GET", f"/x/{i}") for i in range(6)))
    assert grants == 1
    assert tokens.refresh_count == 1


async def test_a_success_that_is_not_a_json_object_is_a_permanent_error() -> None:
    rig = Rig(scripted(httpx.Response(200, text="<html>proxy login</html>")))
    with pytest.raises(PermanentError):
        await rig.http.json("GET", "/x")
