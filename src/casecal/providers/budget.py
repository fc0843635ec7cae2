"""Request budgets: at most ``limit`` requests in any ``window`` seconds, shared by everything
that draws on the same quota (one Microsoft mailbox, one firm).

Pacing to a known budget beats learning it from 429s: a throttled request is a wasted round
trip, and a ``Retry-After`` in whole seconds leaves part of the window unused. The provider
still has the last word (its 429s are honoured by the HTTP layer); the budget only keeps us
from asking for more than it will grant. One budget object is per process: several workers
each pace themselves, so a firm's budget is per worker (docs/design/scale-out.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class WindowBudget:
    """A sliding-window budget. ``acquire(cost)`` returns once ``cost`` more requests fit in
    the window; a request counts from the moment it is granted. ``margin`` seconds are added
    to every wait, because the provider stamps a request when it arrives, a little after we
    stamped it when we sent it."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs a positive limit and window")
        self.limit = limit
        self.window = window
        self.margin = margin
        self.clock = clock
        self.sleep = sleep
        self._granted: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Seconds callers spent waiting for the budget (for metrics and the benchmark)."""

    def _expire(self, now: float) -> None:
        # A microsecond of slack: a float clock that slept exactly to the boundary may land
        # a hair before it, and must not then wait forever for a zero-length delay.
        while self._granted and self._granted[0] <= now - self.window + 1e-6:
            self._granted.popleft()

    def available(self) -> int:
        """Requests that would be granted right now."""
        self._expire(self.clock())
        return self.limit - len(self._granted)

    async def acquire(self, cost: int = 1) -> None:
        """Wait until ``cost`` requests fit (a cost above the limit waits for a whole empty
        window, then is granted: a batch larger than the budget can never fit otherwise)."""
        cost = max(1, cost)
        async with self._lock:  # first come, first served
            while True:
                now = self.clock()
                self._expire(now)
                free = self.limit - len(self._granted)
                if free >= min(cost, self.limit):
                    self._granted.extend([now] * cost)
                    return
                # The oldest grants that must leave before ``cost`` fit.
                needed = min(cost, self.limit) - free
                release_at = self._granted[needed - 1] + self.window + self.margin
                delay = max(0.0, release_at - now)
                self.waited += delay
                await self.sleep(delay)


class Budgets:
    """The budgets of one process, keyed by what shares a quota (a mailbox, a firm)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._by_key: dict[str, WindowBudget] = {}

    def of(self, key: str) -> WindowBudget:
        budget = self._by_key.get(key)
        if budget is None:
            budget = self._by_key[key] = WindowBudget(self.limit, self.window)
        return budget
