"""The bench's charts: what they draw is read from the results document (latencies per
scenario and provider, CPU per pass and per event), and both PNGs are written beside it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.charts import baseline_for, cpu_figures, latency_series, write_charts
from bench.report import Sample, document

WHEN = "2026-12-05"


def _sample(scenario: str, provider: str, size: int, cpu_s: float, **dist: list[float]) -> Sample:
    return Sample(scenario, provider, size, wall_s=1.0, cpu_s=cpu_s, rss_growth_mb=0.0,
                  requests=1, round_trips=1, minimum=1, events=size,
                  distributions=dict(dist))  # fmt: skip


def _doc() -> dict[str, Any]:
    samples = [
        _sample("noop", "google", 1000, 0.5),  # the first no-op reads the push's echoes
        _sample("noop-steady", "google", 1000, 0.004),
        _sample("noop-steady", "google", 1000, 0.006),
        _sample("push", "google", 1000, 2.0),
        _sample("push", "google", 100, 0.5),
        _sample("import", "microsoft", 500, 0.25),
        _sample("latency h->r", "google", 20, 0.2, latency_ms=[30.0, 10.0]),
        _sample("latency h->r", "google", 20, 0.2, latency_ms=[20.0]),
        _sample("latency r->h", "microsoft", 20, 0.1, latency_ms=[5.0]),
        _sample("incremental", "google", 1000, 0.1, latency_ms=[1.0]),  # not a latency scenario
    ]
    doc = document(samples, {}, datetime(2026, 12, 5, tzinfo=UTC))
    return dict(json.loads(json.dumps(doc, default=str)))


def test_latencies_are_pooled_over_runs_per_scenario_and_provider() -> None:
    assert latency_series(_doc()) == {
        ("latency h->r", "google"): [10.0, 20.0, 30.0],
        ("latency r->h", "microsoft"): [5.0],
    }


def test_cpu_figures_are_per_pass_or_per_event_of_the_largest_size() -> None:
    figures = {(f.label, f.provider): f.ms for f in cpu_figures(_doc())}
    assert figures[("no-op pass", "google")] == 5.0  # the median of 4 and 6 ms
    assert figures[("push, per event", "google")] == 2.0  # 2 s over 1,000, not the 100 run
    assert figures[("import, per event", "microsoft")] == 0.5
    assert figures[("one-change pass", "google")] == 10.0  # 0.2 s over 20 changes
    assert ("no-op pass", "microsoft") not in figures


def test_the_baseline_is_the_newest_earlier_results_file(tmp_path: Path) -> None:
    for name in ("2026-11-22.json", "2026-12-03.json", f"{WHEN}.json", "2026-12-09.json"):
        (tmp_path / name).write_text("{}")
    assert baseline_for(tmp_path / f"{WHEN}.json") == tmp_path / "2026-12-03.json"
    assert baseline_for(tmp_path / "2026-11-22.json") is None


def test_both_charts_are_written_beside_the_json(tmp_path: Path) -> None:
    path = tmp_path / f"{WHEN}.json"
    doc = _doc()
    path.write_text(json.dumps(doc))
    before = dict(doc, rows=[dict(r, medians=dict(r["medians"], cpu_s=9.0)) for r in doc["rows"]])
    written = write_charts(doc, path, before, "2026-12-03")
    assert [p.name for p in written] == [f"{WHEN}-latency.png", f"{WHEN}-cpu.png"]
    for png in written:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5_000


def test_nothing_to_draw_writes_nothing(tmp_path: Path) -> None:
    empty = {"rows": [], "samples": []}
    assert write_charts(empty, tmp_path / f"{WHEN}.json") == []
    assert cpu_figures(empty) == []
    assert latency_series(empty) == {}


def test_a_sample_keeps_its_distribution_in_the_json() -> None:
    sample = _sample("latency h->r", "google", 2, 0.1, latency_ms=[1.5, 2.5])
    assert asdict(sample)["distributions"] == {"latency_ms": [1.5, 2.5]}
