"""Samples, their medians per (scenario, provider, size), the printed table and the JSON file
``bench/results/<date>.json``. Everything but ``write_json`` is pure."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
METRICS = (
    "wall_s", "cpu_s", "rss_growth_mb", "requests", "round_trips", "minimum", "ratio",
    "events_per_s",
)  # fmt: skip


@dataclass
class Sample:
    scenario: str
    provider: str
    size: int
    wall_s: float
    cpu_s: float
    rss_growth_mb: float
    requests: int
    """Calls in the emulator's request log (Google logs each batch part as a call too)."""
    round_trips: int
    """HTTP requests CaseCal's client sent (a batch envelope counts once)."""
    minimum: int
    events: int
    extra: dict[str, float] = field(default_factory=dict)
    note: str = ""
    distributions: dict[str, list[float]] = field(default_factory=dict)
    """Raw values behind a percentile (``latency_ms``: one per change), for the charts."""

    @property
    def ratio(self) -> float:
        return self.round_trips / self.minimum if self.minimum else math.inf

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0-100) of a non-empty sequence."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Row:
    scenario: str
    provider: str
    size: int
    runs: int
    medians: dict[str, float]
    note: str = ""


def summarise(samples: Sequence[Sample]) -> list[Row]:
    """One row per (scenario, provider, size), in first-seen order, with each metric's median
    over the runs (extras too)."""
    groups: dict[tuple[str, str, int], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.scenario, sample.provider, sample.size), []).append(sample)
    rows: list[Row] = []
    for (scenario, provider, size), group in groups.items():
        medians = {m: statistics.median(float(getattr(s, m)) for s in group) for m in METRICS}
        for key in sorted({k for s in group for k in s.extra}):
            medians[key] = statistics.median(s.extra[key] for s in group if key in s.extra)
        note = next((s.note for s in group if s.note), "")
        rows.append(Row(scenario, provider, size, len(group), medians, note))
    return rows


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "inf"
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


HEADER = ("scenario", "provider", "size", "runs", "wall s", "cpu s", "rss MB", "requests",
          "min", "ratio", "events/s", "notes")  # fmt: skip


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (it reads as plain text too)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        m = row.medians
        extras = [f"{k}={_fmt(v)}" for k, v in m.items() if k not in METRICS]
        notes = "; ".join([*extras, row.note] if row.note else extras)
        cells = [
            row.scenario, row.provider, str(row.size), str(row.runs), _fmt(m["wall_s"]),
            _fmt(m["cpu_s"]), _fmt(m["rss_growth_mb"]), _fmt(m["round_trips"]),
            _fmt(m["minimum"]), _fmt(m["ratio"]), _fmt(m["events_per_s"]), notes,
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def document(samples: Sequence[Sample], config: dict[str, Any], when: datetime) -> dict[str, Any]:
    rows = summarise(samples)
    return {
        "taken_at": when.isoformat(),
        "machine": machine(),
        "config": config,
        "rows": [asdict(r) for r in rows],
        "samples": [asdict(s) | {"ratio": s.ratio, "events_per_s": s.events_per_s}
                    for s in samples],
    }  # fmt: skip


def write_json(
    doc: dict[str, Any], directory: Path = RESULTS, when: datetime | None = None
) -> Path:
    when = when or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{when:%Y-%m-%d}.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path
