"""The import scenario's peer: Home Assistant's gcal_sync imports the same emulated Google
calendar after CaseCal, and CaseCal's sample carries the ratio of their CPU times."""

from __future__ import annotations

from bench.emulator import EmulatorProcess
from bench.runner import Job, run_all
from bench.scenarios.peer import SCENARIO, stored_items


def test_gcal_sync_imports_the_same_calendar_beside_casecal() -> None:
    with EmulatorProcess() as emulators:
        samples = run_all([Job("import", "google", 12)], emulators.base, 1, isolate=False)
    ours, theirs = samples
    assert (ours.scenario, theirs.scenario) == ("import", SCENARIO)
    assert theirs.extra["stored"] == ours.extra["listed"]  # the same events, all kept
    assert theirs.requests >= 1
    assert theirs.cpu_s > 0
    assert ours.extra["cpu_vs_gcal_sync"] == ours.cpu_s / theirs.cpu_s


def test_graph_imports_have_no_peer() -> None:
    with EmulatorProcess() as emulators:
        samples = run_all([Job("import", "microsoft", 6)], emulators.base, 1, isolate=False)
    assert [s.scenario for s in samples] == ["import"]
    assert "cpu_vs_gcal_sync" not in samples[0].extra


def test_stored_items_are_counted_under_the_stores_scoped_keys() -> None:
    assert stored_items({"event_sync": {"cal": {"items": {"a": {}, "b": {}}}}}) == 2
    assert stored_items({"x": {"items": {"a": {}}}, "y": {"items": {}}}) == 1
    assert stored_items(None) == 0
