"""``python -m bench``: start the emulators, run the scenarios, print the table of medians and
write ``bench/results/<date>.json`` with its charts (``<date>-latency.png``, ``<date>-cpu.png``,
the CPU beside the newest earlier results file or ``--baseline``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.charts import baseline_for, write_charts
from bench.emulator import EmulatorProcess
from bench.report import RESULTS, document, summarise, table, write_json
from bench.runner import SCENARIOS, Job, run_all
from bench.scenarios.latency import has_receiver

PROVIDERS = ("google", "microsoft")
DEFAULT_SCENARIOS = "lifecycle,import,throttled,fleet"


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a small configuration (about a minute)")
    p.add_argument("--runs", type=int, help="runs per scenario (medians are over these)")
    p.add_argument("--push-sizes", type=_sizes, help="host entries to push, e.g. 1000,10000")
    p.add_argument("--import-sizes", type=_sizes, help="remote events to import, e.g. 1000,50000")
    p.add_argument("--latency-changes", type=int, help="single changes timed host->remote")
    p.add_argument("--throttled-size", type=int, help="entries pushed under the Graph budget")
    p.add_argument("--per-window", type=int, help="Graph budget: requests per window")
    p.add_argument("--window-seconds", type=float, help="Graph budget: window length")
    p.add_argument("--fleet-connections", type=int, help="fleet: connections (the issue: 1000)")
    p.add_argument("--fleet-events", type=int, help="fleet: linked events per connection")
    p.add_argument("--fleet-rate", type=float, help="fleet: changes per second")
    p.add_argument("--fleet-seconds", type=float, help="fleet: length of the change stream")
    p.add_argument("--fleet-runs", type=int, help="fleet: runs (default 1: seeding is slow)")
    p.add_argument("--idle-connections", type=int, help="idle: connections (the issue: 10000)")
    p.add_argument("--idle-events", type=int, help="idle: linked events per connection")
    p.add_argument("--idle-seconds", type=float, help="idle: the quiet window measured")
    p.add_argument("--workers", type=_sizes, help="workers: worker processes, e.g. 1,2,4")
    p.add_argument("--workers-connections", type=int, help="workers: connections")
    p.add_argument("--workers-events", type=int, help="workers: linked events per connection")
    p.add_argument("--pg-url", help="workers: PostgreSQL server (a database is made there)")
    p.add_argument("--providers", default=",".join(PROVIDERS), help="google,microsoft")
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help=",".join(SCENARIOS))
    p.add_argument("--in-process", action="store_true", help="no fresh process per sample")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory of the JSON results")
    p.add_argument("--baseline", type=Path, help="results JSON the CPU chart compares with")
    p.add_argument("--no-charts", action="store_true", help="write the JSON only")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "runs": 2 if quick else 3,
        "push_sizes": [25] if quick else [1000],
        "import_sizes": [50] if quick else [1000],
        "latency_changes": 20 if quick else 100,
        "throttled_size": 40 if quick else 250,
        "per_window": 20 if quick else 100,
        "window_seconds": 2.0 if quick else 5.0,
        "fleet_connections": 10 if quick else 100,
        "fleet_events": 20 if quick else 100,
        "fleet_rate": 10.0 if quick else 20.0,
        "fleet_seconds": 5.0 if quick else 30.0,
        "idle_connections": 10 if quick else 10000,
        "idle_events": 5 if quick else 10,
        "idle_seconds": 5.0 if quick else 60.0,
        "workers": [1, 2] if quick else [1, 2, 4],
        "workers_connections": 50 if quick else 500,
        "workers_events": 10 if quick else 20,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def jobs_of(args: argparse.Namespace) -> list[Job]:
    providers = [p for p in args.providers.split(",") if p]
    wanted = [s for s in args.scenarios.split(",") if s]
    jobs: list[Job] = []
    for provider in providers:
        if "lifecycle" in wanted:
            latency = {"latency_changes": float(args.latency_changes)}
            jobs += [Job("lifecycle", provider, n, latency) for n in args.push_sizes]
        if "import" in wanted:
            jobs += [Job("import", provider, n) for n in args.import_sizes]
        if "latency" in wanted:
            jobs.append(Job("latency", provider, args.latency_changes))
        if "webhook" in wanted and has_receiver():
            jobs.append(Job("webhook", provider, args.latency_changes))
    if "fleet" in wanted:
        jobs += [_fleet_job(args, provider) for provider in providers]
    if "idle" in wanted:
        idle = {"events": float(args.idle_events), "window": args.idle_seconds, "runs": 1.0}
        jobs += [Job("idle", provider, args.idle_connections, idle) for provider in providers]
    if "workers" in wanted and "google" in providers:
        options = {"events": float(args.workers_events), "runs": 1.0}
        counts = tuple(args.workers)
        jobs.append(Job("workers", "google", args.workers_connections, options, counts))
    if "throttled" in wanted and "microsoft" in providers:
        options = {"per_window": float(args.per_window), "window_seconds": args.window_seconds}
        jobs.append(Job("throttled", "microsoft", args.throttled_size, options))
    return jobs


def _fleet_job(args: argparse.Namespace, provider: str) -> Job:
    """One run unless ``--fleet-runs`` asks for more: seeding C x E events (untimed, but about
    1.7 s per connection of 100 events) dominates the scenario's time."""
    options = {
        "events": float(args.fleet_events),
        "rate": float(args.fleet_rate),
        "seconds": float(args.fleet_seconds),
        "runs": float(args.fleet_runs or 1),
    }
    return Job("fleet", provider, args.fleet_connections, options)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.pg_url:
        os.environ["CASECAL_BENCH_POSTGRES_URL"] = args.pg_url  # the spawned samples read it
    config = {k: v for k, v in vars(args).items() if k not in ("out", "baseline", "no_charts")}
    started = time.perf_counter()
    with EmulatorProcess() as emulators:
        print(f"emulators on {emulators.base}", file=sys.stderr)
        samples = run_all(
            jobs_of(args), emulators.base, args.runs, isolate=not args.in_process,
            told=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        )  # fmt: skip
    when = datetime.now(UTC)
    doc = document(samples, config, when)
    path = write_json(doc, args.out, when)
    print(table(summarise(samples)))
    if not args.no_charts:
        baseline = args.baseline or baseline_for(path)
        before = json.loads(baseline.read_text()) if baseline is not None else None
        name = baseline.stem if baseline is not None else "before"
        for chart in write_charts(json.loads(path.read_text()), path, before, name):
            print(f"wrote {chart}")
    print(f"\n{when:%Y-%m-%d %H:%M} UTC, {time.perf_counter() - started:.0f} s; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
