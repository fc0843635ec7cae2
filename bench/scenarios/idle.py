"""What a quiet connection costs: C connections seeded as the fleet's are (each its own case
manager and emulated account, E linked events, a push channel on the app's real receiver),
then nothing changes.

Measured, in the process that serves them (the embedded ``Scheduler`` with its production
sweep period, ``ChannelManager.renew_due`` on each sweep as the app wires it):

- **memory per connection**: the resident size once the fleet is converged and its channels
  are open, minus the resident size once its first connection was (the one seeded the real
  way: the process's one-off warm-up is in it), over the C - 1 others (both after a full
  garbage collection and ``malloc_trim``; ``rss_per_connection_kb``). It holds everything
  the process keeps per connection (adapter, token source, scheduler and channel state, the
  SQLite page cache) and whatever the allocator kept of the seeding: an upper bound (the
  bench's own per-connection bookkeeping, ids of entries and events, is dropped first).
- **the quiet window**: the scheduler runs for ``window`` seconds with push healthy and no
  change anywhere: its CPU (sweeps: due connections, channel health, housekeeping,
  renewals due), the passes and the requests. Extrapolated to an hour (x 3600 / window).
- **one renewal round**: what the next channel renewals cost, run now by moving the clocks of
  the channel manager, of the adapters' token sources and of the emulator forward to just past
  the channels' half-life (Google 3.5 days, Graph 35.25 hours; ``casecal.sync.channels``),
  where ``renew_due`` renews every channel: Google opens a new channel and stops the old one,
  Graph extends the subscription, each after refreshing the access token that has expired by
  then. Its CPU, requests and token refreshes per connection, spread over that period for the
  hourly figure. The emulator's clock is moved back afterwards.

So the hourly figures are ``window x 3600 / window_s + round / period_h``: measured, then
extrapolated, and labelled so. Polls: none while push is healthy (``triggers.due_connections``);
a poll would show as passes in the window. Not counted: the outbound traffic of a change
(the fleet scenario measures that) and the provider's own notifications.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from bench.accounts import Counter
from bench.emulator import Admin
from bench.measure import peak_rss_mb
from bench.report import Sample
from bench.scenarios.fleet import Fleet, open_channels, seed, settled_rss_mb
from bench.scenarios.webhook import receiver
from casecal.store.tables import ProviderName, utcnow
from casecal.sync.channels import LIFETIME, RENEW_WHEN_LEFT, ChannelManager

SCENARIO = "idle"
BOUND_REQUESTS_PER_HOUR = 2.0
"""The issue's bound for a quiet connection with push healthy."""


class Shift:
    """A clock ``seconds`` ahead of the wall clock (the adapters' token sources)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return time.time() + self.seconds

    def utc(self) -> datetime:
        return utcnow() + timedelta(seconds=self.seconds)


def renewal_period_h(provider: str) -> float:
    """Hours between two renewals of one channel: it is renewed at its half-life."""
    return LIFETIME[ProviderName(provider)].total_seconds() * RENEW_WHEN_LEFT / 3600


async def run(
    base: str, provider: str, connections: int, *, events: int, window: float
) -> list[Sample]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    counter = Counter()
    shift = Shift()
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(timeout=120.0) as admin_http,
        httpx.AsyncClient(
            timeout=120.0, limits=limits, event_hooks={"request": [counter.hook]}
        ) as http,
    ):
        admin = Admin(admin_http, base, provider)
        fleet = await seed(admin, http, counter, provider, connections, events, clock=shift)
        try:
            async with receiver(fleet.sessionmaker, fleet.scheduler) as (url, key):
                await open_channels(fleet, admin, url, key)
                await fleet.settle()
                seeded = time.perf_counter() - started
                _forget_bookkeeping(fleet)
                loaded_mb = settled_rss_mb()
                quiet = await _window(fleet, counter, window)
                renewal = await _renewal_round(fleet, admin, counter, shift, url, key)
        finally:
            await fleet.close()
    period = renewal_period_h(provider)
    per_hour = 3600 / window
    requests_h = (quiet["requests"] * per_hour + renewal["requests"] / period) / connections
    cpu_h = (quiet["cpu_s"] * per_hour + renewal["cpu_s"] / period) / connections
    first_mb = fleet.seeding["template_rss_mb"]
    sample = Sample(
        scenario=SCENARIO, provider=provider, size=connections, wall_s=window,
        cpu_s=quiet["cpu_s"], rss_growth_mb=loaded_mb - first_mb,
        requests=int(quiet["requests"]), round_trips=int(quiet["requests"]), minimum=0,
        events=0,
    )  # fmt: skip
    sample.extra = {
        "rss_per_connection_kb": (loaded_mb - first_mb) * 1024 / max(1, connections - 1),
        "rss_mb": loaded_mb,
        "window_s": window,
        "window_cpu_s": quiet["cpu_s"],
        "window_requests": quiet["requests"],
        "window_passes": quiet["passes"],
        "renewal_period_h": period,
        "renewal_cpu_s": renewal["cpu_s"],
        "renewal_wall_s": renewal["wall_s"],
        "renewal_requests": renewal["requests"],
        "renewed": renewal["renewed"],
        "token_refreshes": renewal["refreshes"],
        "requests_per_connection_h": requests_h,
        "cpu_ms_per_connection_h": cpu_h * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "seed_s": seeded,
    } | {f"seed_{k}": v for k, v in fleet.seeding.items()}
    sample.note = (
        f"{events} events each; quiet {window:g} s with push healthy, then one renewal round; "
        "per hour extrapolated"
    )
    return [sample]


def _forget_bookkeeping(fleet: Fleet) -> None:
    """Drop what only the bench keeps per connection (its entries' and events' ids, the
    seeding's answers), so the resident size counts what serving them takes."""
    for member in fleet.members:
        member.entries, member.remote_ids = [], []
        member.account.seeded, member.account.issued = [], {}


async def _window(fleet: Fleet, counter: Counter, window: float) -> dict[str, float]:
    """The scheduler alone for ``window`` seconds: nothing changes anywhere."""
    before, passes = counter.sent, fleet.log.started
    cpu = time.process_time()
    await asyncio.sleep(window)
    return {
        "cpu_s": time.process_time() - cpu,
        "requests": float(counter.sent - before),
        "passes": float(fleet.log.started - passes),
    }


async def _renewal_round(
    fleet: Fleet, admin: Admin, counter: Counter, shift: Shift, url: str, key: str
) -> dict[str, Any]:
    """Every channel renewed as it would be at its half-life: the clocks of the token
    sources, of a channel manager and of the emulator moved just past it."""
    ahead = renewal_period_h(fleet.provider_name) * 3600 + 60
    await fleet.settle()
    await _advance(admin, ahead)
    shift.seconds = ahead
    try:
        channels = ChannelManager(
            fleet.sessionmaker, fleet.adapters, webhook_base_url=url, secret_keys=[key],
            clock=shift.utc, kick=fleet.scheduler.kick,
        )  # fmt: skip
        refreshed = sum(m.account.tokens.refresh_count for m in fleet.members if m.account.tokens)
        before = counter.sent
        cpu, wall = time.process_time(), time.perf_counter()
        renewed = await channels.renew_due()
        result = {
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - wall,
            "requests": float(counter.sent - before),
            "renewed": float(renewed),
        }
        result["refreshes"] = float(
            sum(m.account.tokens.refresh_count for m in fleet.members if m.account.tokens)
            - refreshed
        )
        await fleet.settle()
    finally:
        shift.seconds = 0.0
        await _advance(admin, -ahead)
    if result["renewed"] != len(fleet.members):
        raise RuntimeError(f"renewed {result['renewed']:g} of {len(fleet.members)} channels")
    return result


async def _advance(admin: Admin, seconds: float) -> None:
    if admin.provider == "google":
        await admin.call("POST", "/clock", {"seconds": seconds})
    else:
        await admin.call("POST", "/clock/advance", {"seconds": seconds})
