"""A tiny run of the lifecycle scenario against the emulators in their own process, so the test
suite proves the bench still runs end to end (and that a no-op pass is one request)."""

from __future__ import annotations

from bench.emulator import EmulatorProcess
from bench.report import summarise, table
from bench.runner import Job, run_all


def test_lifecycle_scenario_runs_against_the_emulator_process() -> None:
    with EmulatorProcess() as emulators:
        job = Job("lifecycle", "google", 4, {"latency_changes": 2})
        samples = run_all([job], emulators.base, 1, isolate=False)
    by_name = {s.scenario: s for s in samples}
    assert {"push", "noop", "incremental", "noop-steady", "latency h->r"} <= set(by_name)
    push = by_name["push"]
    assert push.events == 4
    assert push.requests >= push.minimum == 2
    assert push.round_trips >= push.minimum
    assert push.wall_s > 0
    assert push.cpu_s > 0
    assert by_name["noop"].requests == 1
    assert by_name["noop-steady"].requests == 1
    assert by_name["incremental"].requests >= by_name["incremental"].minimum
    latency = by_name["latency h->r"]
    assert latency.requests == latency.minimum == 4
    assert 0 < latency.extra["p50_ms"] <= latency.extra["p99_ms"]
    if "latency r->h" in by_name:  # measured once the app has a push receiver
        assert by_name["latency r->h"].extra["missed"] == 0
    assert "| push | google | 4 | 1 |" in table(summarise(samples))
