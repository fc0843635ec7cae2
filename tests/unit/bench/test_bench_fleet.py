"""The fleet scenario: its pure parts, and tiny runs against the emulators' process (its
connections after the first seeded in bulk), and the idle variant."""

from __future__ import annotations

import pytest
from bench import minimums
from bench.__main__ import jobs_of, parse
from bench.emulator import EmulatorProcess
from bench.runner import Job, run_all
from bench.scenarios.fleet import PassRecord, carrier
from bench.scenarios.idle import BOUND_REQUESTS_PER_HOUR, renewal_period_h


def test_fleet_minimum_is_a_feed_read_per_carrying_pass_and_batched_writes() -> None:
    assert minimums.fleet("google", [1, 0, 0]) == 2 + 1 + 1
    assert minimums.fleet("microsoft", [21]) == 1 + 2
    assert minimums.fleet("google", [51]) == 1 + 2
    assert minimums.fleet("google", []) == 0


def test_a_change_is_carried_by_the_first_successful_pass_started_after_it() -> None:
    records = [PassRecord(1.0, 2.0, True), PassRecord(3.0, 4.0, False), PassRecord(5.0, 6.0, True)]
    assert carrier(records, 0.5) == 0
    assert carrier(records, 1.0) == 0
    assert carrier(records, 2.5) == 2
    assert carrier(records, 5.5) is None
    assert carrier([], 0.0) is None


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_bulk_seeded_fleet_delivers_every_change(provider: str) -> None:
    """Six connections, five of them copied in bulk from the first: each copy's first pass
    is one full listing that finds everything in sync (no write, so no echo pass), and
    every change of the stream arrives on the other side."""
    with EmulatorProcess() as emulators:
        job = Job("fleet", provider, 6, {"events": 4, "rate": 12.0, "seconds": 1.0})
        samples = run_all([job], emulators.base, 1, isolate=False)
    (fleet,) = samples
    assert (fleet.scenario, fleet.size, fleet.events) == ("fleet", 6, 12)
    assert fleet.extra["seed_link_passes"] >= 5
    assert fleet.extra["seed_link_requests"] == fleet.extra["seed_link_passes"]
    assert fleet.extra["lost"] == 0
    assert fleet.extra["unserved"] == 0
    assert fleet.extra["failed"] == 0
    assert fleet.round_trips >= fleet.minimum >= 1
    assert 0 < fleet.extra["p50_ms"] <= fleet.extra["p99_ms"]
    assert fleet.extra["passes"] >= 1


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_idle_connections_cost_no_request_but_their_renewals(provider: str) -> None:
    """A quiet fleet with push healthy: no pass and no request in the window (no polling),
    then one renewal round renews every channel, after one token refresh each; the hourly
    request rate per connection stays under the issue's bound."""
    with EmulatorProcess() as emulators:
        job = Job("idle", provider, 4, {"events": 3, "window": 1.0})
        samples = run_all([job], emulators.base, 1, isolate=False)
    (idle,) = samples
    extra = idle.extra
    assert (idle.scenario, idle.size) == ("idle", 4)
    assert extra["window_passes"] == 0
    assert extra["window_requests"] == 0
    assert extra["renewed"] == 4
    assert extra["token_refreshes"] == 4
    per_renewal = 3 if provider == "google" else 2  # refresh + watch + stop; refresh + PATCH
    assert extra["renewal_requests"] == 4 * per_renewal
    assert extra["renewal_period_h"] == renewal_period_h(provider)
    assert extra["requests_per_connection_h"] == pytest.approx(
        per_renewal / renewal_period_h(provider)
    )
    assert extra["requests_per_connection_h"] <= BOUND_REQUESTS_PER_HOUR
    assert extra["rss_per_connection_kb"] >= 0


def test_idle_runs_behind_its_flag_only() -> None:
    assert all(job.scenario != "idle" for job in jobs_of(parse([])))
    jobs = jobs_of(parse(["--scenarios", "idle", "--idle-connections", "500"]))
    assert [(j.scenario, j.provider, j.size) for j in jobs] == [
        ("idle", "google", 500),
        ("idle", "microsoft", 500),
    ]
    assert jobs[0].options == {"events": 10.0, "window": 60.0, "runs": 1.0}
