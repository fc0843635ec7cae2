"""Faults for a real CalDAV server, injected on the client side of the wire (a real server
has no fault switch): an ``httpx`` transport that records every request and applies the
emulators' ``Fault``s. CalDAV reads with GET, PROPFIND and REPORT, so a fault on ``GET``
applies to each; it creates with a PUT carrying ``If-None-Match: *``, so a fault on ``POST``
applies to that."""

from __future__ import annotations

import asyncio
import re

import httpx

from casecal.emulators.faults import Fault, FaultInjector

READS = frozenset({"GET", "PROPFIND", "REPORT"})


class FaultTransport(httpx.AsyncBaseTransport):
    """Records every request and applies armed faults before the server (``drop``: after)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: FaultInjector | None = None):
        self.inner = inner
        self.faults = faults or FaultInjector(seed=3)
        self.sent: list[httpx.Request] = []

    def _pick(self, request: httpx.Request) -> Fault | None:
        method = request.method
        if method == "PUT" and request.headers.get("if-none-match") == "*":
            method = "POST"  # a create
        for fault in self.faults.faults:
            wanted = (fault.method or "").upper()
            if wanted == "GET" and request.method in READS:
                wanted = request.method
            if wanted and wanted != method:
                continue
            if fault.times is not None and fault.fired >= fault.times:
                continue
            if re.search(fault.path, request.url.path) is None:
                continue
            if self.faults.random.random() >= fault.rate:
                continue
            fault.fired += 1
            return fault
        return None

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        fault = self._pick(request)
        if fault is None:
            return await self.inner.handle_async_request(request)
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
            return await self.inner.handle_async_request(request)
        if fault.kind == "drop":
            answer = await self.inner.handle_async_request(request)
            await answer.aread()
            await answer.aclose()
            return httpx.Response(502, text="Injected lost response")
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return httpx.Response(504, text="Injected timeout")
        if fault.kind == "throttle":
            return httpx.Response(429, headers={"Retry-After": str(fault.retry_after)})
        return httpx.Response(fault.status, text=fault.message)
