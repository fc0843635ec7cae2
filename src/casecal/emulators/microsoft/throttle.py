"""Outlook's per-mailbox throttling (per app + mailbox: 4 concurrent requests, 10,000 requests
per 10 minutes), answered with 429 and Retry-After. Off by default, switched per mailbox."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from casecal.emulators.microsoft.errors import render_graph_error
from casecal.emulators.microsoft.state import Clock


@dataclass
class Budget:
    concurrent: int = 4
    per_window: int = 10_000
    window_seconds: float = 600.0


Key = tuple[str, str]
"""(client id, mailbox object id)."""


class Throttle:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.budgets: dict[str, Budget] = {}
        """Mailbox object id -> its budget; mailboxes without one are never throttled."""
        self.in_flight: dict[Key, int] = {}
        self.history: dict[Key, deque[datetime]] = {}
        self.peak: dict[Key, int] = {}
        """The most requests ever in flight at once per key (what tests assert on)."""

    def enable(self, oid: str, budget: Budget | None = None) -> Budget:
        self.budgets[oid] = budget or Budget()
        return self.budgets[oid]

    def disable(self, oid: str) -> None:
        self.budgets.pop(oid, None)

    def acquire(self, key: Key) -> tuple[int, str] | None:
        """Take a slot; None when granted, else (Retry-After seconds, message)."""
        budget = self.budgets.get(key[1])
        if budget is None:
            return None
        now = self.clock.now()
        seen = self.history.setdefault(key, deque())
        horizon = now - timedelta(seconds=budget.window_seconds)
        while seen and seen[0] <= horizon:
            seen.popleft()
        if self.in_flight.get(key, 0) >= budget.concurrent:
            return 1, "Application is over its MailboxConcurrency limit."
        if len(seen) >= budget.per_window:
            wait = (seen[0] - horizon).total_seconds()
            return max(1, math.ceil(wait)), "Application is over its MailboxLimit."
        seen.append(now)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.peak[key] = max(self.peak.get(key, 0), self.in_flight[key])
        return None

    def release(self, key: Key) -> None:
        if key in self.in_flight:
            self.in_flight[key] = max(0, self.in_flight[key] - 1)


def throttled_response(retry_after: int, message: str) -> JSONResponse:
    body, headers = render_graph_error(429, "ApplicationThrottled", message)
    return JSONResponse(body, status_code=429, headers={**headers, "Retry-After": str(retry_after)})


class ThrottleMiddleware:
    """Counts Graph requests (not $batch envelopes, whose parts count one by one)."""

    def __init__(
        self, app: ASGIApp, throttle: Throttle, resolve: Callable[[Scope], Key | None]
    ) -> None:
        self.app = app
        self.throttle = throttle
        self.resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        key = self.resolve(scope) if path.startswith(("/v1.0/", "/beta/")) else None
        if key is None or path.endswith("/$batch"):
            await self.app(scope, receive, send)
            return
        refused = self.throttle.acquire(key)
        if refused is not None:
            await throttled_response(*refused)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.throttle.release(key)
