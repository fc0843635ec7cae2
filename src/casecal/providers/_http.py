"""The one HTTP layer under every adapter: bearer tokens with one refresh on 401, retries with
jittered exponential backoff, ``Retry-After``, a per-account concurrency limit, and the
mapping of failed responses to the provider error taxonomy."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from casecal.providers.budget import WindowBudget
from casecal.providers.errors import (
    AuthExpired,
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
    RateLimited,
    Transient,
)
from casecal.providers.tokens import TokenSource
from casecal.providers.wirejson import loads

Sleep = Callable[[float], Awaitable[None]]
Classifier = Callable[[httpx.Response], ProviderError]
"""Turns a failed response (never 401) into an error; each adapter parses its own reasons."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one request may keep trying. Backoff for attempt n (1-based) is
    ``min(max_delay, base_delay * 2**(n-1))`` plus up to ``jitter`` random seconds (capped at
    ``max_delay``). A ``Retry-After`` is waited exactly, unless it exceeds ``max_retry_after``:
    then ``RateLimited`` is raised at once so the scheduler can come back later. Waiting
    stops when ``max_attempts`` or the total ``budget`` of seconds would be exceeded."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 32.0
    jitter: float = 1.0
    max_retry_after: float = 120.0
    budget: float = 300.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_with(parts: Callable[[int, Any], ProviderError]) -> Classifier:
    """A response classifier from a provider's (status, JSON body) -> error rule; a body that is
    not JSON is passed as None."""

    def classify(response: httpx.Response) -> ProviderError:
        try:
            body = loads(response.content)
        except ValueError:
            body = None
        return parts(response.status_code, body)

    return classify


def default_error(
    status: int, *, provider: str, reason: str = "", message: str = "", retry_after: float | None
) -> ProviderError:
    """The status-only part of the mapping; adapters handle their reason-specific cases
    (Google 403 usageLimits, 410 fullSyncRequired, Graph syncStateNotFound ...) first."""
    text = message or f"HTTP {status}"
    kwargs: dict[str, Any] = {"provider": provider, "status": status, "reason": reason}
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(text, retry_after=retry_after, **kwargs)
    if status in (408, 425) or status >= 500:
        return Transient(text, **kwargs)
    if status == 401:
        return AuthExpired(text, **kwargs)
    if status in (404, 410):
        return NotFound(text, **kwargs)
    if status == 412:
        return PreconditionFailed(text, **kwargs)
    return PermanentError(text, **kwargs)


class HttpLayer:
    """Sends one account's requests. Create one per account (or share its ``semaphore``
    across the adapters of one account) so the concurrency limit is per mailbox."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenSource,
        classify: Classifier,
        *,
        provider: str,
        policy: RetryPolicy | None = None,
        max_concurrency: int = 4,
        semaphore: asyncio.Semaphore | None = None,
        budgets: Sequence[WindowBudget] = (),
        headers: Mapping[str, str] | None = None,
        auth_scheme: str = "Bearer",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.classify = classify
        self.provider = provider
        self.policy = policy or RetryPolicy()
        self.semaphore = semaphore or asyncio.Semaphore(max_concurrency)
        self.budgets = tuple(budgets)
        """Request budgets every request draws on (the mailbox's, the firm's), in order."""
        self.headers = dict(headers or {})
        self.auth_scheme = auth_scheme
        """``Bearer`` for OAuth tokens; ``Basic`` for CalDAV's username + app password."""
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.now = now

    def backoff(self, attempt: int) -> float:
        p = self.policy
        delay = min(p.max_delay, p.base_delay * 2 ** (attempt - 1))
        jittered: float = delay + self.rng.uniform(0, p.jitter)
        return min(p.max_delay, jittered)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        cost: int = 1,
    ) -> httpx.Response:
        """Send until success (2xx/304) or a final error. ``idempotent`` defaults to the
        method's nature; pass True for a POST that carries an idempotency key. ``cost`` is
        what the request takes from the budgets (a batch counts its parts)."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt, waited, refreshed = 0, 0.0, False
        while True:
            attempt += 1
            token = await self.tokens.access_token()
            auth = f"{self.auth_scheme} {token}"
            merged = {**self.headers, **(headers or {}), "Authorization": auth}
            for budget in self.budgets:
                await budget.acquire(cost)
            try:
                async with self.semaphore:
                    response = await self.client.request(
                        method, url, params=params, json=json, content=content, headers=merged
                    )
            except httpx.TransportError as exc:
                error: ProviderError = Transient(
                    f"{type(exc).__name__}: {exc}", provider=self.provider, reason="transport"
                )
                if not (safe or isinstance(exc, _NOT_SENT)):
                    raise error from exc
                delay = self.backoff(attempt)
            else:
                if response.status_code == 401:
                    if refreshed:
                        raise AuthExpired(
                            "access refused after a token refresh",
                            provider=self.provider,
                            status=401,
                            reason="unauthorized",
                        )
                    refreshed = True
                    await self.tokens.refresh(token)
                    attempt -= 1  # the refresh round does not count against the budget
                    continue
                if response.is_success or response.status_code == 304:
                    return response
                error = self._throttle_aware(self.classify(response), response)
                delay_or_none = self._retry_delay(error, safe, attempt)
                if delay_or_none is None:
                    raise error
                delay = delay_or_none
            if attempt >= self.policy.max_attempts or waited + delay > self.policy.budget:
                raise error
            log.debug(
                "provider.retry",
                provider=self.provider,
                method=method,
                url=url,
                attempt=attempt,
                delay=delay,
                error=repr(error),
            )
            await self.sleep(delay)
            waited += delay

    def _throttle_aware(self, error: ProviderError, response: httpx.Response) -> ProviderError:
        """A 503 that names a ``Retry-After`` is throttling (Graph sends it so)."""
        header = parse_retry_after(response.headers.get("Retry-After"), self.now())
        if isinstance(error, RateLimited):
            if header is not None:
                error.retry_after = header
            return error
        if isinstance(error, Transient) and response.status_code == 503 and header is not None:
            return RateLimited(
                error.message,
                provider=error.provider,
                status=error.status,
                reason=error.reason,
                retry_after=header,
            )
        return error

    def _retry_delay(self, error: ProviderError, safe: bool, attempt: int) -> float | None:
        """How long to wait before retrying, or None when the error is final."""
        if isinstance(error, RateLimited):
            if error.retry_after is None:
                return self.backoff(attempt)
            if error.retry_after > self.policy.max_retry_after:
                return None
            return error.retry_after
        if isinstance(error, Transient) and safe:
            return self.backoff(attempt)
        return None

    async def json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """``request`` and decode a JSON object body (empty dict for 204)."""
        response = await self.request(method, url, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PermanentError(
                "expected a JSON object", provider=self.provider, status=response.status_code
            )
        return body
