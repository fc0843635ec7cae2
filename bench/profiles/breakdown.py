"""Where a profile's samples go: each sample (a collapsed py-spy stack) is given to the first
category met walking from the leaf up. Socket and transport frames are looked through (their
time is their caller's); a frame of CaseCal's own code that no category claims stops the walk
(the sample is "other", by that module), so the event loop at the root of every stack does not
claim the application's code; a sample with no category and no CaseCal frame whose stack holds
the loop's machinery is asyncio overhead."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HTTP client", ("httpx/", "httpcore/", "h11/", "anyio/")),
    ("JSON", ("json/",)),
    ("canonical event", ("casecal/domain/event.py", "casecal/domain/mapping.py")),
    (
        "provider codec",  # today's packages, and the modules the c99ba93 profiles recorded
        (
            *(f"casecal/providers/google/{m}.py" for m in ("codec", "json", "wire")),
            *(f"casecal/providers/msgraph/{m}.py" for m in ("codec", "json", "wire")),
            "casecal/providers/_google_",
            "casecal/providers/_graph_",
        ),
    ),
    ("ORM and SQL", ("sqlalchemy/", "aiosqlite/", "sqlite3/")),
    ("plan", ("casecal/domain/plan.py",)),
    ("logging", ("structlog/", "logging/")),
    ("metrics", ("prometheus_client/", "casecal/web/metrics.py")),
)
"""Checked in this order for each frame; ``provider codec`` (the provider JSON <-> canonical
event translation) is kept apart from the canonical event itself, which the fingerprint is part
of (``casecal.domain.event``)."""

ASYNCIO = ("asyncio/", "selectors.py", "concurrent/futures/")
LOOKED_THROUGH = (
    "asyncio/selector_events.py", "asyncio/transports.py", "asyncio/streams.py",
    "asyncio/sslproto.py", "socket.py", "ssl.py",
)  # fmt: skip
OWN_CODE = ("casecal/", "bench/")
WAITING = {("EpollSelector.select", "selectors.py")}
"""The event loop waiting in epoll. py-spy counts a thread as busy while it is runnable, and on
a loaded machine a loop just woken waits for a core for a while: those samples are waiting, not
work, and are left out. The SQLite thread's leaf ``_connection_worker_thread`` is both its wait
on its queue and the SQLite library's own work (C, not visible without native frames): it is
kept, as SQL, and the thread is weighted by its measured CPU share (``Profile.weights``)."""
COLUMNS = (*(name for name, _ in CATEGORIES), "asyncio", "other")
PER_EVENT = {"push", "import"}
TITLES = {
    "push": "push of {size} entries (one pass)",
    "noop": "no-op pass",
    "change-h2r": "one-change pass, host -> remote",
    "change-r2h": "one-change pass, remote -> host",
    "import": "import of {size} events (one pass)",
}


def frames(stack: str) -> list[tuple[str, str]]:
    """``func (file);func (file)`` root first, as ``(func, file)`` pairs."""
    out = []
    for frame in stack.split(";"):
        func, _, rest = frame.partition(" (")
        out.append((func, rest.rstrip(")")))
    return out


def waiting(stack: list[tuple[str, str]]) -> bool:
    return bool(stack) and stack[-1] in WAITING


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def classify(stack: list[tuple[str, str]]) -> tuple[str, str]:
    """(category, detail): detail is the CaseCal module for ``other``, else the leaf function."""
    leaf = f"{stack[-1][0]} ({stack[-1][1]})" if stack else "?"
    for func, path in reversed(stack):
        if path.startswith(LOOKED_THROUGH) and not func.startswith("BaseSelectorEventLoop"):
            continue  # a transport's write is its caller's; the loop's own wake-ups are not
        for name, prefixes in CATEGORIES:
            if path.startswith(prefixes):
                return name, leaf
        if path.startswith(ASYNCIO):
            return "asyncio", leaf
        if path.startswith(OWN_CODE):
            return "other", f"{module_of(path)}.{func}"
    return "other", leaf


@dataclass
class Profile:
    """The samples of one scenario and provider, by category."""

    samples: int = 0
    waiting: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    details: dict[str, Counter[str]] = field(default_factory=dict)
    inclusive: Counter[str] = field(default_factory=Counter)
    by_thread: dict[str, Counter[str]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    """Measured CPU share of each thread (``loop``, ``sqlite``), when known: shares are then
    taken within each thread and weighted by it, since a thread blocked in file I/O or waiting
    for a core is sampled as busy (the SQLite thread's sample share ran about twice its CPU
    share)."""

    @classmethod
    def read(cls, path: Path) -> Profile:
        profile = cls()
        for line in path.read_text().splitlines():
            stack_text, _, count_text = line.rpartition(" ")
            if not stack_text:
                continue
            count, stack = int(count_text), frames(stack_text)
            if waiting(stack):
                profile.waiting += count
                continue
            category, detail = classify(stack)
            profile.samples += count
            profile.by_category[category] += count
            thread = "sqlite" if stack[0][1] == "threading.py" else "loop"
            profile.by_thread.setdefault(thread, Counter())[category] += count
            profile.details.setdefault(category, Counter())[detail] += count
            own = {f"{module_of(p)}.{f}" for f, p in stack if p.startswith("casecal/")}
            for name in own:
                profile.inclusive[name] += count
        return profile

    def raw_share(self, category: str) -> float:
        return self.by_category[category] / self.samples if self.samples else 0.0

    def share(self, category: str) -> float:
        if not self.weights:
            return self.raw_share(category)
        total = 0.0
        for thread, weight in self.weights.items():
            counts = self.by_thread.get(thread, Counter())
            if counts.total():
                total += weight * counts[category] / counts.total()
        return total

    def thread_share(self) -> float:
        """The SQLite thread's share of the samples."""
        return self.by_thread.get("sqlite", Counter()).total() / self.samples if self.samples else 0


def median_ms(times: dict[str, list[float]], key: str) -> float:
    values = times.get(key, [])
    return statistics.median(values) if values else 0.0


def report(folder: Path, size: int = 1000) -> str:
    """The markdown of ``breakdown.md`` (also written there)."""
    times: dict[str, list[float]] = json.loads((folder / "times.json").read_text())
    head = "| scenario | provider | CPU ms (median) | samples | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 4)]
    rate = float(times.get("rate", [250.0])[0])
    detail_lines: list[str] = []
    for scenario in TITLES:
        for path in sorted(folder.glob(f"{scenario}-*.folded")):
            provider = path.stem.removeprefix(f"{scenario}-")
            profile = Profile.read(path)
            ms = median_ms(times, path.stem)
            runs = len(times.get(path.stem, []))
            unit = f"{ms:.0f} ({ms / size:.2f}/event)" if scenario in PER_EVENT else f"{ms:.1f}"
            loop = times.get(f"{path.stem}@loop", [])
            if loop:
                rest = (sum(times[path.stem]) - sum(loop)) / sum(times[path.stem])
                profile.weights = {"loop": 1 - rest, "sqlite": rest}
                unit += f"; SQLite thread {rest:.0%} (of samples {profile.thread_share():.0%})"
            cells = []
            for column in COLUMNS:
                share = profile.share(column)
                part = share * (ms / size if scenario in PER_EVENT else ms)
                cells.append(f"{share:.0%} ({part:.2f})" if share >= 0.005 else "-")
            title = TITLES[scenario].format(size=size)
            expected = sum(times.get(path.stem, [])) / 1000 * rate
            counted = f"{profile.samples} of {expected:.0f} (+{profile.waiting} waiting)"
            lines.append(
                f"| {title} | {provider} | {unit} [n={runs}] | {counted} | "
                + " | ".join(cells) + " |"
            )  # fmt: skip
            detail_lines += _details(f"{title}, {provider}", profile, ms)
    note = (
        "\nCells: share of the profile's samples (ms of CPU per pass, or per event for push and"
        " import, = share x the median CPU time of the pass). n = passes timed. Samples: those"
        " counted, of the number the passes' CPU time would give at the sampling rate, and"
        " those left out as waiting (see breakdown.py). SQLite thread: the share of the"
        " passes' CPU time spent on aiosqlite's connection thread (thread CPU clocks), and its"
        " share of the samples; the shares in the cells are taken within each thread and"
        " weighted by the thread's measured CPU share.\n"
    )
    text = "\n".join(lines) + "\n" + note + "\n" + "\n".join(detail_lines) + "\n"
    (folder / "breakdown.md").write_text(text)
    return text


INCLUSIVE = (
    "CaseCal functions on the stack (inclusive share of all samples, and that share of the"
    " pass's CPU ms). Lower bounds: the ORM work SQLAlchemy runs in a greenlet is sampled"
    " without its CaseCal caller (statements.md names the callers of the SQL):"
)


def _details(title: str, profile: Profile, ms: float) -> list[str]:
    out = [f"### {title}", "", "Top leaf functions and modules by category (share of samples):", ""]
    for category, _count in profile.by_category.most_common():
        top = profile.details[category].most_common(6)
        items = "; ".join(f"{name} {n / profile.samples:.1%}" for name, n in top)
        out.append(f"- **{category}** {profile.raw_share(category):.0%} of samples: {items}")
    out += ["", INCLUSIVE, ""]
    for name, n in profile.inclusive.most_common(25):
        out.append(f"- `{name}` {n / profile.samples:.0%} ({n / profile.samples * ms:.1f} ms)")
    return [*out, ""]
