"""What the pages show, computed from rows without I/O: a run's counts in one line, and
calendar entries laid out as a week and an agenda (a connection's state: ``connection_states``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from casecal.domain.validation import MAX_YEAR, MIN_YEAR
from casecal.store.tables import EntryKind, ProviderName

PROVIDER_LABELS = {ProviderName.MICROSOFT: "Microsoft 365 / Exchange",
                   ProviderName.GOOGLE: "Google Calendar",
                   ProviderName.CALDAV: "CalDAV (iCloud, Fastmail, Nextcloud)"}  # fmt: skip

KIND_LABELS = {
    EntryKind.APPOINTMENT: "Appointment",
    EntryKind.COURT_DATE: "Court date",
    EntryKind.INTERVIEW: "Interview",
    EntryKind.STEP_REMINDER: "Step reminder",
}


def _total(node: Any) -> int:
    if isinstance(node, bool):
        return 0
    if isinstance(node, int):
        return node
    if isinstance(node, Mapping):
        return sum(_total(v) for k, v in node.items() if k != "guard")
    return 0


def counts_line(counts: Mapping[str, Any]) -> str:
    """``{"in": {...}, "out": {...}}`` as ``"3 in, 2 out"`` (nested counts summed)."""
    parts = [f"{_total(counts.get(side, {}))} {side}" for side in ("in", "out")]
    conflicts = _total(counts.get("conflicts", 0))
    if conflicts:
        parts.append(f"{conflicts} conflict{'s' if conflicts != 1 else ''}")
    return ", ".join(parts)


@dataclass(frozen=True)
class EntryView:
    """One calendar entry in the viewer's local time."""

    id: uuid.UUID
    kind: EntryKind
    title: str
    day: date
    start: datetime | None
    """``None`` for all-day entries."""
    end: datetime | None
    detail: str = ""
    imported: bool = False
    last_day: date | None = None
    """The last day (inclusive) an all-day entry covers; ``None`` for one day."""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def link(self) -> str:
        """The entry's page (the same URL pushed events carry)."""
        return f"/entries/{self.kind.value}/{self.id}"

    @property
    def time_label(self) -> str:
        if self.start is None:
            if self.last_day is not None and self.last_day > self.day:
                return f"All day, {self.day:%-d %b} to {self.last_day:%-d %b}"
            return "All day"
        end = f"-{self.end:%H:%M}" if self.end is not None else ""
        return f"{self.start:%H:%M}{end}"

    def days_within(self, first: date, days: int) -> list[date]:
        """The days of [first, first + days) this entry shows on (every day it covers)."""
        last = max(self.day, self.last_day or self.day)
        lo, hi = max(self.day, first), min(last, first + timedelta(days=days - 1))
        return [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]


@dataclass
class Day:
    day: date
    entries: list[EntryView] = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str, today: date) -> date | None:
    """The Monday of the week ``?week=`` names (any ISO day in it; empty means this week), or
    ``None`` when it is malformed or so far out that the page could not show it."""
    if not value:
        return week_start(today)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return week_start(day)


def sort_key(entry: EntryView) -> tuple[int, datetime | None, str]:
    return (0 if entry.start is None else 1, entry.start, entry.title)


def lay_out_week(monday: date, entries: Iterable[EntryView]) -> list[Day]:
    """Seven days from ``monday``, each with its entries (all-day first, then by time); an
    entry over several days shows on each of them."""
    days = [Day(monday + timedelta(days=i)) for i in range(7)]
    for entry in sorted(entries, key=sort_key):
        for day in entry.days_within(monday, 7):
            days[(day - monday).days].entries.append(entry)
    return days


def agenda(
    entries: Iterable[EntryView], first: date = date.min, days: int | None = None
) -> list[Day]:
    """Days of [first, first + days) that have entries, in order, each with its entries."""
    span = days if days is not None else (date.max - first).days
    grouped: dict[date, Day] = {}
    for entry in sorted(entries, key=sort_key):
        for day in entry.days_within(first, span):
            grouped.setdefault(day, Day(day)).entries.append(entry)
    return [grouped[day] for day in sorted(grouped)]
