"""The bench's report maths: percentiles, medians per scenario, ratios, the table, the JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench.report import Sample, document, percentile, summarise, table, write_json


def sample(scenario: str = "push", wall: float = 1.0, trips: int = 10, **extra: float) -> Sample:
    return Sample(
        scenario=scenario, provider="google", size=100, wall_s=wall, cpu_s=wall / 2,
        rss_growth_mb=1.0, requests=trips, round_trips=trips, minimum=5, events=100,
        extra=dict(extra),
    )  # fmt: skip


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing"):
        percentile([], 50)


def test_ratio_and_rate() -> None:
    s = sample(wall=2.0, trips=12)
    assert s.ratio == pytest.approx(2.4)
    assert s.events_per_s == pytest.approx(50.0)
    s.minimum = 0
    assert math.isinf(s.ratio)


def test_summarise_takes_medians_per_scenario_in_first_seen_order() -> None:
    samples = [
        sample("push", wall=1.0, trips=10, p99_ms=5.0),
        sample("noop", wall=0.1, trips=1),
        sample("push", wall=3.0, trips=30, p99_ms=9.0),
        sample("push", wall=2.0, trips=11, p99_ms=7.0),
    ]
    rows = summarise(samples)
    assert [r.scenario for r in rows] == ["push", "noop"]
    push = rows[0]
    assert push.runs == 3
    assert push.medians["wall_s"] == 2.0
    assert push.medians["round_trips"] == 11
    assert push.medians["ratio"] == pytest.approx(11 / 5)
    assert push.medians["events_per_s"] == pytest.approx(50.0)
    assert push.medians["p99_ms"] == 7.0
    assert "p99_ms" not in rows[1].medians


def test_table_has_a_row_per_group_with_extras_and_notes() -> None:
    noted = sample("latency", p50_ms=12.5)
    noted.note = "remote->host: not measured"
    text = table(summarise([sample(), noted]))
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("| scenario | provider | size")
    assert "| push | google | 100 | 1 |" in lines[2]
    assert "p50_ms=12.5;" in lines[3]
    assert "remote->host: not measured" in lines[3]


def test_json_is_written_under_the_date(tmp_path: Path) -> None:
    when = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    doc = document([sample(), sample(wall=3.0)], {"runs": 2}, when)
    path = write_json(doc, tmp_path, when)
    assert path.name == "2026-03-04.json"
    loaded = json.loads(path.read_text())
    assert loaded["config"] == {"runs": 2}
    assert loaded["rows"][0]["medians"]["wall_s"] == 2.0
    assert len(loaded["samples"]) == 2
    assert loaded["samples"][0]["ratio"] == 2.0
    assert loaded["machine"]["nproc"] >= 1
