"""The SQL a pass sends, by statement and by the CaseCal function that sent it.

A sampling profile cannot name the caller of ORM work: SQLAlchemy's asyncio layer runs the ORM
in a greenlet whose stack starts at the ORM call. A cursor-execute listener can: it walks from
the greenlet's frames up into its parent's (the awaiting coroutine) to the nearest CaseCal
frames. Used by ``python -m bench.profile_scenarios --statements``; it adds CPU of its own, so
its runs are not the profiles' timed ones."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import greenlet  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

SPACES = re.compile(r"\s+")
SKIP = ("casecal/store/", "bench/")


def _callers(frame: FrameType | None, depth: int = 2) -> str:
    """The ``depth`` innermost CaseCal functions on ``frame``'s chain (store helpers skipped)."""
    names: list[str] = []
    while frame is not None and len(names) < depth:
        path = frame.f_code.co_filename
        if "/casecal/" in path and not any(s in path for s in SKIP):
            module = path.rsplit("/casecal/", 1)[1].removesuffix(".py").replace("/", ".")
            names.append(f"{module}.{frame.f_code.co_qualname}")
        frame = frame.f_back
    return " < ".join(names) or "?"


def caller() -> str:
    """The CaseCal caller of the statement being executed, across SQLAlchemy's greenlet."""
    here = _callers(sys._getframe(2))
    if here != "?":
        return here
    parent = greenlet.getcurrent().parent
    return _callers(parent.gr_frame if parent is not None else None)


class Census:
    """Counts the statements executed on ``engine`` inside ``section`` blocks, by name."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.current: str | None = None
        self.passes: Counter[str] = Counter()
        self.statements: dict[str, Counter[tuple[str, str]]] = {}
        self.rows: dict[str, Counter[tuple[str, str]]] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, many = args
        if self.current is None:
            return
        text = SPACES.sub(" ", statement).strip()
        text = text if len(text) <= 110 else text[:107] + "..."
        key = (text, caller())
        self.statements.setdefault(self.current, Counter())[key] += 1
        rows = len(parameters) if many else 1
        self.rows.setdefault(self.current, Counter())[key] += rows

    @contextmanager
    def section(self, name: str, passes: int = 1) -> Iterator[None]:
        self.current = name
        self.passes[name] += passes
        try:
            yield
        finally:
            self.current = None

    def report(self, title: str) -> list[str]:
        out: list[str] = []
        for name, counts in self.statements.items():
            passes = self.passes[name]
            total = sum(counts.values()) / passes
            out += [f"### {name}, {title}: {total:.1f} statements per pass", ""]
            out += ["| per pass | rows | statement | sent by |", "|---|---|---|---|"]
            for (text, sent_by), n in counts.most_common(40):
                rows = self.rows[name][(text, sent_by)] / passes
                cell = text.replace("|", "\\|")
                out.append(f"| {n / passes:.1f} | {rows:.0f} | `{cell}` | `{sent_by}` |")
            out.append("")
        return out
