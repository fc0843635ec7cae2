"""Throttled push on Microsoft Graph: the emulator enforces a per-mailbox budget (4 in flight,
``per_window`` requests per ``window_seconds``); the share of that budget CaseCal used and the
share of its requests that were throttled (429)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bench import minimums
from bench.report import Sample
from bench.scenarios.common import setup
from bench.workload import host_specs
from casecal.providers.budget import WindowBudget
from casecal.providers.msgraph import MicrosoftGraphProvider


def budget_share(accepted: int, per_window: int, window_s: float, wall_s: float) -> float:
    """How much of the budget the run used: the time a client sending at the budget's full
    rate needs for ``accepted`` requests (it sends ``per_window`` at once, then waits for the
    next window: ``(ceil(accepted / per_window) - 1) * window_s``) over the run's wall time.
    1.0 is perfect; NaN when the budget never bound (everything fitted in the first window)."""
    ideal = (math.ceil(accepted / per_window) - 1) * window_s
    if ideal <= 0 or wall_s <= 0:
        return math.nan
    return min(1.0, ideal / wall_s)


async def run(
    base: str, provider: str, size: int, *, per_window: int, window_seconds: float
) -> list[Sample]:
    async with setup(base, provider) as s:
        await s.host.add(host_specs(size, now=datetime.now(UTC)))
        await s.account.throttle(concurrent=4, per_window=per_window, window_seconds=window_seconds)
        if isinstance(s.provider, MicrosoftGraphProvider):
            # CaseCal paces a mailbox to Graph's budget (settings graph_mailbox_requests /
            # graph_mailbox_window_seconds); here that budget is the emulator's, scaled down.
            s.provider.http.budgets = (WindowBudget(per_window, window_seconds),)
        sample, _ = await s.measure(
            s.host.sync, scenario="throttled push", size=size,
            minimum=minimums.push(provider, size), events=size,
        )  # fmt: skip
        calls = await s.account.admin.log(s.account.email)
        statuses = [c.status for c in calls]
        throttled = sum(1 for c in statuses if c == 429)
        # The budget counts requests, and each part of a $batch as one (the emulator does as
        # Graph does): the accepted units are the plain requests plus the pushed creates.
        plain = sum(1 for c in calls if c.status != 429 and not c.path.endswith("$batch"))
        accepted = plain + size
        share = budget_share(accepted, per_window, window_seconds, sample.wall_s)
        if not math.isnan(share):
            sample.extra["budget_share"] = share
        sample.extra["throttled_share"] = throttled / len(statuses) if statuses else 0.0
        sample.note = f"budget {per_window} req / {window_seconds:g} s, 4 in flight"
        return [sample]
