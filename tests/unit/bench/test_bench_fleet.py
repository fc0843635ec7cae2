"""The fleet scenario: its pure parts, and a tiny run against the emulators' process."""

from __future__ import annotations

from bench import minimums
from bench.emulator import EmulatorProcess
from bench.runner import Job, run_all
from bench.scenarios.fleet import PassRecord, carrier


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


def test_fleet_scenario_delivers_every_change() -> None:
    with EmulatorProcess() as emulators:
        job = Job("fleet", "google", 3, {"events": 4, "rate": 6.0, "seconds": 1.0})
        samples = run_all([job], emulators.base, 1, isolate=False)
    (fleet,) = samples
    assert (fleet.scenario, fleet.size, fleet.events) == ("fleet", 3, 6)
    assert fleet.extra["lost"] == 0
    assert fleet.extra["unserved"] == 0
    assert fleet.round_trips >= fleet.minimum >= 1
    assert 0 < fleet.extra["p50_ms"] <= fleet.extra["p99_ms"]
    assert fleet.extra["passes"] >= 1
