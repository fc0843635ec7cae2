"""The request budget paces callers to at most N requests in any window, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.providers.budget import Budgets, WindowBudget


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _budget(limit: int, window: float, t: FakeTime, margin: float = 0.0) -> WindowBudget:
    return WindowBudget(limit, window, margin=margin, clock=t.clock, sleep=t.sleep)


async def test_requests_within_the_budget_never_wait() -> None:
    t = FakeTime()
    budget = _budget(5, 10.0, t)
    for _ in range(5):
        await budget.acquire()
    assert t.slept == []
    assert budget.available() == 0


async def test_the_next_request_waits_for_the_oldest_to_leave_the_window() -> None:
    t = FakeTime()
    budget = _budget(2, 10.0, t, margin=0.5)
    await budget.acquire()
    t.now = 4.0
    await budget.acquire()
    await budget.acquire()  # must wait until the first grant (t=0) leaves: t = 10 + margin
    assert t.now == pytest.approx(10.5)
    assert budget.waited == pytest.approx(6.5)


async def test_a_batch_takes_one_slot_per_part() -> None:
    t = FakeTime()
    budget = _budget(20, 5.0, t)
    await budget.acquire(15)
    assert budget.available() == 5
    await budget.acquire(10)  # needs the 15 to expire
    assert t.now == pytest.approx(5.0)
    assert budget.available() == 10


async def test_a_cost_above_the_limit_waits_for_an_empty_window() -> None:
    t = FakeTime()
    budget = _budget(3, 1.0, t)
    await budget.acquire()
    await budget.acquire(7)
    assert t.now == pytest.approx(1.0)


@given(
    limit=st.integers(1, 8),
    window=st.floats(0.5, 20.0),
    costs=st.lists(st.integers(1, 4), min_size=1, max_size=40),
    gaps=st.lists(st.floats(0.0, 3.0), min_size=40, max_size=40),
)
def test_no_window_ever_holds_more_than_the_limit(
    limit: int, window: float, costs: list[int], gaps: list[float]
) -> None:
    """Property: for any arrival pattern, every window of the given length holds at most
    ``limit`` granted requests (costs within the limit)."""
    t = FakeTime()
    budget = _budget(limit, window, t)
    grants: list[float] = []

    async def drive() -> None:
        for cost, gap in zip(costs, gaps, strict=False):
            t.now += gap
            cost = min(cost, limit)
            await budget.acquire(cost)
            grants.extend([t.now] * cost)

    asyncio.run(drive())
    for start in grants:
        inside = [g for g in grants if start <= g < start + window - 1e-9]
        assert len(inside) <= limit


def test_budgets_are_shared_per_key() -> None:
    budgets = Budgets(10, 60.0)
    assert budgets.of("firm-a") is budgets.of("firm-a")
    assert budgets.of("firm-a") is not budgets.of("firm-b")
