"""The bench's charts, written beside its JSON: the latency of single changes (a cumulative
distribution per scenario and provider) and the CPU of a pass and of an event, this run beside
an earlier one (by default the newest earlier file in ``bench/results/``).

What is drawn is read from the JSON document by pure functions (``latency_series``,
``cpu_figures``), tested on their own; ``write_charts`` only draws them with matplotlib."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LATENCY_SCENARIOS = ("latency h->r", "latency r->h", "fleet")


@dataclass(frozen=True)
class Figure:
    """One bar of the CPU chart: what it measures, per provider, in milliseconds."""

    label: str
    provider: str
    ms: float
    size: int = 0
    """The size of the run it comes from (entries pushed, events imported, linked events)."""


def latency_series(doc: Mapping[str, Any]) -> dict[tuple[str, str], list[float]]:
    """Every single change's latency (ms) per (scenario, provider), all runs pooled, sorted."""
    out: dict[tuple[str, str], list[float]] = {}
    for sample in doc.get("samples", []):
        values = sample.get("distributions", {}).get("latency_ms")
        if sample.get("scenario") in LATENCY_SCENARIOS and values:
            out.setdefault((sample["scenario"], sample["provider"]), []).extend(values)
    return {key: sorted(values) for key, values in out.items()}


def cpu_figures(doc: Mapping[str, Any]) -> list[Figure]:
    """From the rows' medians: the CPU of a no-op pass (``noop-steady``: the first no-op
    after a push still reads its echoes back), of a pass carrying one change (the
    host->remote latency scenario: one change, one pass), and per event of a push and an
    import (the largest size run), in ms."""
    rows = doc.get("rows", [])
    figures: list[Figure] = []

    def largest(scenario: str, provider: str) -> Mapping[str, Any] | None:
        found = [r for r in rows if r["scenario"] == scenario and r["provider"] == provider]
        return max(found, key=lambda r: int(r["size"])) if found else None

    for provider in sorted({r["provider"] for r in rows}):
        for label, scenario, per in (
            ("no-op pass", "noop-steady", "pass"),  # every echo read back already
            ("one-change pass", "latency h->r", "event"),
            ("push, per event", "push", "event"),
            ("import, per event", "import", "event"),
        ):
            row = largest(scenario, provider)
            if row is None:
                continue
            cpu_ms = float(row["medians"]["cpu_s"]) * 1000
            divisor = int(row["size"]) if per == "event" else 1
            if divisor > 0:
                figures.append(Figure(label, provider, cpu_ms / divisor, int(row["size"])))
    return figures


def baseline_for(path: Path) -> Path | None:
    """The newest results file older than ``path`` in its directory (by name: dates)."""
    earlier = sorted(p for p in path.parent.glob("*.json") if p.name < path.name)
    return earlier[-1] if earlier else None


def write_charts(
    doc: Mapping[str, Any], json_path: Path, baseline: Mapping[str, Any] | None = None,
    baseline_name: str = "before",
) -> list[Path]:  # fmt: skip
    """``<date>-latency.png`` and ``<date>-cpu.png`` beside ``json_path``; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    written: list[Path] = []
    series = latency_series(doc)
    if series:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for (scenario, provider), values in sorted(series.items()):
            shares = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, shares, where="post", label=f"{scenario}, {provider}")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel("latency of one change, ms (log scale)")
        ax.set_ylabel("share of changes at or below")
        ax.set_title("Single changes: time until the pass that carries them ends")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, json_path, "latency"))
        plt.close(fig)
    now = cpu_figures(doc)
    if now:
        before = cpu_figures(baseline) if baseline is not None else []
        fig = _cpu_chart(plt, now, before, baseline_name)
        written.append(_save(fig, json_path, "cpu"))
        plt.close(fig)
    return written


def _cpu_chart(plt: Any, now: Sequence[Figure], before: Sequence[Figure], name: str) -> Any:
    labels = sorted({(f.label, f.provider) for f in now}, key=lambda k: (k[1], k[0]))
    old = {(f.label, f.provider): f.ms for f in before}
    new = {(f.label, f.provider): f.ms for f in now}
    sizes = {(f.label, f.provider): f.size for f in now}
    old_sizes = {(f.label, f.provider): f.size for f in before}

    def tick(key: tuple[str, str]) -> str:
        label, provider = key
        size = f"{provider}, size {sizes[key]}"
        if key in old_sizes and old_sizes[key] != sizes[key]:
            size += f"; {name}: {old_sizes[key]}"
        return f"{label} ({size})"

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ys = list(range(len(labels)))
    height = 0.38
    if old:
        ax.barh([y + height / 2 for y in ys], [old.get(k, 0.0) for k in labels], height,
                label=name, color="#b0b7c3")  # fmt: skip
    ax.barh([y - height / 2 for y in ys], [new[k] for k in labels], height, label="this run",
            color="#1f4fa3")  # fmt: skip
    for y, key in zip(ys, labels, strict=True):
        ax.text(new[key], y - height / 2, f" {new[key]:.2f}", va="center", fontsize=7)
    ax.set_yticks(ys, [tick(key) for key in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("CPU, ms (median; log scale)")
    ax.set_title("CPU of a pass and of an event")
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def _save(fig: Any, json_path: Path, name: str) -> Path:
    path = json_path.with_name(f"{json_path.stem}-{name}.png")
    fig.savefig(path, dpi=110)
    return path
