"""``python -m bench.profile_scenarios``: sample where the sync engine's CPU goes.

For each provider it runs, in fresh spawned processes as the bench does, a push of N host
entries, a run of no-op passes, a run of single-change passes each way (host -> remote as the
latency scenario makes them, remote -> host by an edit "from another client" then a pass) and
an import of N remote events. py-spy attaches to the process only around the passes (once per
pass where a change is made between passes), so the samples are the passes' own. It writes
the collapsed stacks of each scenario and provider to ``bench/profiles/<scenario>-<provider>
.folded`` (all runs merged), the CPU time of every pass to ``times.json``, then the breakdown
table and a flame graph per profile (``bench/profiles/breakdown.py``, ``flame.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.emulator import EmulatorProcess
from bench.profiles import breakdown, flame
from bench.profiles.statements import Census
from bench.scenarios.common import setup
from bench.workload import host_specs, remote_specs
from casecal.logging import configure_logging
from casecal.store.tables import Link

OUT = Path(__file__).parent / "profiles"
STATEMENTS_HEAD = """# SQL statements per pass

Written by `python -m bench.profile_scenarios --statements` (see README.md): per scenario and
provider, the statements one pass sends (averaged over the passes), the rows they carry
(executemany parameter sets), and the two innermost CaseCal functions that sent each.

"""
SCENARIOS = ("push", "noop", "change-h2r", "change-r2h", "import")


@dataclass(frozen=True)
class Plan:
    """What one run of one provider does; ``rate`` is py-spy's samples per second."""

    provider: str
    size: int
    noops: int
    changes: int
    rate: int
    raw: Path
    statements: bool = False
    gil: bool = False


def py_spy() -> str:
    """The py-spy beside this interpreter (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy is not installed (pip install -c requirements.lock -e .[dev])")
    return found


class Spy:
    """py-spy recording this process into ``path`` (collapsed stacks, no line numbers, idle
    threads left out) from ``__enter__`` to ``__exit__``. Non-blocking sampling: the process
    is never stopped to be read, so its CPU time is what it would be unprofiled. (Pausing the
    recorder instead of re-attaching does not work: it catches up on the ticks it missed.)"""

    def __init__(self, path: Path, rate: int, gil: bool = False) -> None:
        self.path, self.rate, self.gil = path, rate, gil
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Spy:
        log = self.path.with_suffix(".log")
        command = [
            py_spy(), "record", "--pid", str(os.getpid()), "--rate", str(self.rate),
            "--format", "raw", "--nolineno", "--nonblocking", "-o", str(self.path),
            *(["--gil"] if self.gil else []),
        ]  # fmt: skip
        with log.open("wb") as sink:
            self._proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 30
        while "Sampling process" not in log.read_text(errors="replace"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"py-spy did not start: {log.read_text(errors='replace')}")
            time.sleep(0.02)
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGINT)
        self._proc.wait(timeout=60)


class Recorder:
    """Around each measured pass (or run of passes): py-spy, or with ``plan.statements`` the
    SQL census instead (``statements.py``), whose tables it writes when closed."""

    def __init__(self, plan: Plan, tag: str, kind: str, engine: AsyncEngine) -> None:
        self.plan, self.tag, self.kind = plan, tag, kind
        self.census = Census(engine) if plan.statements else None

    @contextmanager
    def around(self, scenario: str, part: str = "", passes: int = 1) -> Iterator[None]:
        if self.census is not None:
            with self.census.section(scenario, passes):
                yield
            return
        name = f"{scenario}-{self.plan.provider}-{self.tag}{part}.txt"
        with Spy(self.plan.raw / name, self.plan.rate, self.plan.gil):
            yield

    def close(self) -> None:
        if self.census is not None:
            lines = self.census.report(self.plan.provider)
            path = self.plan.raw / f"statements-{self.plan.provider}-{self.kind}.md"
            path.write_text("\n".join(lines) + "\n")


async def timed(call: Callable[[], Awaitable[Any]], sink: dict[str, list[float]], key: str) -> None:
    """CPU milliseconds of this process (every thread) over one awaited call, into
    ``sink[key]``; the event loop thread's own share into ``sink[key + "@loop"]`` (the rest is
    the SQLite connection's thread, which aiosqlite runs the statements on)."""
    started, loop_started = time.process_time(), time.thread_time()
    await call()
    sink.setdefault(key, []).append((time.process_time() - started) * 1000)
    sink.setdefault(f"{key}@loop", []).append((time.thread_time() - loop_started) * 1000)


async def lifecycle(base: str, plan: Plan, tag: str) -> dict[str, list[float]]:
    """Push, then no-ops, then single changes each way, on one connection."""
    times: dict[str, list[float]] = {}
    async with setup(base, plan.provider) as s:
        entry_ids = await s.host.add(host_specs(plan.size, now=datetime.now(UTC)))
        recorder = Recorder(plan, tag, "1-lifecycle", s.host.db)
        with recorder.around("push"):
            await timed(s.host.sync, times, "push")
        for _ in range(2):  # the first no-op, then the one that has read back every echo
            await s.host.sync()
        for _ in range(20):
            await timed(s.host.sync, times, "noop-unprofiled")
        with recorder.around("noop", passes=plan.noops):
            for _ in range(plan.noops):
                await timed(s.host.sync, times, "noop")
        for i in range(plan.changes):
            await s.host.retitle([entry_ids[i % len(entry_ids)]], f"profile {i}")
            with recorder.around("change-h2r", f"-{i}"):
                await timed(s.host.sync, times, "change-h2r")
        await s.host.sync()  # reads back the echo of the last host change
        async with s.host.sessionmaker() as session:
            remote_ids = [link.remote_id for link in await session.scalars(select(Link))]
        for i in range(plan.changes):
            await s.account.retitle(remote_ids[i % len(remote_ids)], f"Remote {i}")
            with recorder.around("change-r2h", f"-{i}"):
                await timed(s.host.sync, times, "change-r2h")
        recorder.close()
    return times


async def initial_import(base: str, plan: Plan, tag: str) -> dict[str, list[float]]:
    async with setup(base, plan.provider) as s:
        await s.account.seed(remote_specs(plan.size, today=datetime.now(UTC).date()))
        recorder = Recorder(plan, tag, "2-import", s.host.db)
        times: dict[str, list[float]] = {}
        with recorder.around("import"):
            await timed(s.host.sync, times, "import")
        recorder.close()
        return times


def child(kind: str, base: str, plan: Plan, tag: str) -> dict[str, list[float]]:
    """One sample in its spawned process, logging as the bench's samples do."""
    configure_logging(json=False, level="WARNING")
    run = lifecycle if kind == "lifecycle" else initial_import
    return asyncio.run(run(base, plan, tag))


def in_fresh_process(kind: str, base: str, plan: Plan, tag: str) -> dict[str, list[float]]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        return pool.submit(child, kind, base, plan, tag).result()


def merge(raw: Path, out: Path) -> None:
    """One ``.folded`` file per scenario and provider: the runs' stacks, counts added."""
    merged: dict[str, dict[str, int]] = {}
    for path in sorted(raw.glob("*.txt")):
        key = path.name.rsplit("-run", 1)[0]
        stacks = merged.setdefault(key, {})
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack:
                stacks[stack] = stacks.get(stack, 0) + int(count)
    for key, stacks in merged.items():
        lines = [f"{stack} {count}" for stack, count in sorted(stacks.items())]
        (out / f"{key}.folded").write_text("\n".join(lines) + "\n")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.profile_scenarios", description=__doc__)
    p.add_argument("--providers", default="google,microsoft")
    p.add_argument("--size", type=int, default=1000, help="entries pushed, events imported")
    p.add_argument("--noops", type=int, default=100, help="no-op passes per run")
    p.add_argument("--changes", type=int, default=50, help="single-change passes each way")
    p.add_argument("--runs", type=int, default=3, help="fresh processes per provider")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--report-only", action="store_true", help="redo tables and SVGs only")
    p.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    p.add_argument(
        "--statements", action="store_true",
        help="instead of profiling, count the SQL statements of each pass and who sends them",
    )  # fmt: skip
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        times: dict[str, list[float]] = {"rate": [float(args.rate)]}
        with tempfile.TemporaryDirectory(prefix="casecal-profile-") as tmp, EmulatorProcess() as em:
            raw = Path(tmp)
            for provider in args.providers.split(","):
                plan = Plan(
                    provider, args.size, args.noops, args.changes, args.rate, raw,
                    args.statements, args.gil,
                )  # fmt: skip
                for run in range(1, args.runs + 1):
                    for kind in ("lifecycle", "import"):
                        print(f"{provider} {kind} run {run}/{args.runs}", file=sys.stderr)
                        got = in_fresh_process(kind, em.base, plan, f"run{run}")
                        for scenario, values in got.items():
                            name, _, thread = scenario.partition("@")
                            key = f"{name}-{provider}" + (f"@{thread}" if thread else "")
                            times.setdefault(key, []).extend(values)
            if args.statements:
                parts = [p.read_text() for p in sorted(raw.glob("statements-*.md"))]
                (args.out / "statements.md").write_text(STATEMENTS_HEAD + "\n".join(parts))
                return 0
            merge(raw, args.out)
        (args.out / "times.json").write_text(json.dumps(times, indent=1) + "\n")
    for folded in sorted(args.out.glob("*.folded")):
        flame.write_svg(folded, folded.with_suffix(".svg"))
    print(breakdown.report(args.out, args.size))  # --report-only: give the run's --size
    return 0


if __name__ == "__main__":
    sys.exit(main())
