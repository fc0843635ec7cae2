"""Fault injection shared by both emulators: error rates, latency, timeouts and 429 bursts.

Tests arm faults through the Python API (``emulator.faults.add(Fault(...))``) or over HTTP
(``POST /_emulator/faults`` with the same fields as JSON). Each emulator renders the error
body in its provider's own format through the ``render`` callable it passes in.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

ErrorRenderer = Callable[[int, str, str], tuple[dict[str, Any], dict[str, str]]]
"""(status, reason, message) -> (JSON body, extra headers) in the provider's error format."""


@dataclass
class Fault:
    """One armed fault. It applies to requests whose method and path match, at ``rate``
    probability, at most ``times`` times (None = until cleared).

    kind: ``error`` (answer ``status``), ``throttle`` (429 with ``Retry-After: retry_after``),
    ``latency`` (sleep ``delay`` seconds, then serve normally), ``timeout`` (sleep
    ``delay`` seconds and then answer 504, as a gateway would: clients with a shorter timeout
    see a timeout), or ``drop`` (serve the request, then answer 502 so the client cannot know
    whether it took effect: the "lost response" case for idempotency tests).
    """

    kind: str = "error"
    status: int = 503
    reason: str = "backendError"
    message: str = "Injected fault"
    method: str | None = None
    path: str = ""
    """A regular expression searched in the request path ('' matches every path)."""
    account: str | None = None
    rate: float = 1.0
    times: int | None = None
    retry_after: int = 1
    delay: float = 0.0
    fired: int = field(default=0, init=False)

    def matches(self, method: str, path: str, account: str | None) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.account and self.account != account:
            return False
        return re.search(self.path, path) is not None


KINDS = {"error", "throttle", "latency", "timeout", "drop"}


class FaultInjector:
    """The armed faults of one emulator, with a seeded generator so runs are reproducible."""

    def __init__(self, seed: int = 0) -> None:
        self.faults: list[Fault] = []
        self.random = random.Random(seed)

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {sorted(KINDS)}")
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, method: str, path: str, account: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path, account) and self.random.random() < fault.rate:
                fault.fired += 1
                return fault
        return None


class FaultMiddleware:
    """Applies the injector's faults before (or, for ``drop``, after) the wrapped app.
    Paths under ``/_emulator`` (the control surface) are never faulted."""

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        render: ErrorRenderer,
        resolve_account: Callable[[Scope], str | None],
    ) -> None:
        self.app = app
        self.injector = injector
        self.render = render
        self.resolve_account = resolve_account

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        fault = self.injector.pick(scope["method"], scope["path"], self.resolve_account(scope))
        if fault is None:
            await self.app(scope, receive, send)
            return
        response: Response
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
            return
        if fault.kind == "drop":
            await self.app(scope, receive, _discard)
            response = self._error(502, "badGateway", "Injected lost response")
        elif fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            response = self._error(504, "gatewayTimeout", "Injected timeout")
        elif fault.kind == "throttle":
            response = self._error(429, fault.reason or "rateLimitExceeded", fault.message)
            response.headers["Retry-After"] = str(fault.retry_after)
        else:
            response = self._error(fault.status, fault.reason, fault.message)
        await response(scope, receive, send)

    def _error(self, status: int, reason: str, message: str) -> Response:
        body, headers = self.render(status, reason, message)
        return JSONResponse(body, status_code=status, headers=headers)


async def _discard(_message: Any) -> None:
    """A ``send`` that swallows the real response (for the ``drop`` fault)."""
