"""Seeded workloads: remote calendars (80% single, 15% weekly series with exceptions, 5% all-day,
several zones) as Google and Graph JSON, and host entries. Pure: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)
OCCURRENCES = 10
"""Occurrences of every seeded weekly series (all inside the sync window)."""
MOVED, CANCELLED = 2, 4
"""Which occurrence of each series is edited (an exception) and which is cancelled."""
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """One seeded remote event: ``kind`` is ``single``, ``weekly`` or ``allday``."""

    kind: str
    title: str
    start: datetime
    minutes: int
    zone: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    def occurrence_stamp(self, index: int) -> str:
        """The UTC stamp both emulators put in an occurrence id (``<master>_<stamp>``)."""
        wall = self.start + timedelta(weeks=index)  # same wall time: the zone decides the offset
        return wall.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def kind_counts(n: int) -> dict[str, int]:
    """How many of each kind a calendar of ``n`` holds (15% weekly, 5% all-day, rest single)."""
    weekly = n * 15 // 100
    allday = n * 5 // 100
    return {"single": n - weekly - allday, "weekly": weekly, "allday": allday}


def remote_specs(n: int, *, today: date, seed: int = 7) -> list[RemoteSpec]:
    rng = random.Random(seed)
    kinds = [k for k, c in kind_counts(n).items() for _ in range(c)]
    rng.shuffle(kinds)
    specs: list[RemoteSpec] = []
    for i, kind in enumerate(kinds):
        zone = ZONES[i % len(ZONES)]
        day = today + timedelta(days=rng.randint(1, 280))
        if kind == "allday":
            start = datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
            specs.append(RemoteSpec(kind, f"Remote all-day {i}", start, 24 * 60, zone))
            continue
        start = datetime.combine(day, time(rng.randint(8, 17), 15 * rng.randint(0, 3)))
        start = start.replace(tzinfo=ZoneInfo(zone))
        specs.append(RemoteSpec(kind, f"Remote {kind} {i}", start, 30 * rng.randint(1, 4), zone))
    return specs


def _local(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def google_body(spec: RemoteSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"summary": spec.title, "description": "seeded by the benchmark"}
    if spec.kind == "allday":
        body["start"] = {"date": spec.start.date().isoformat()}
        body["end"] = {"date": (spec.start.date() + timedelta(days=1)).isoformat()}
        return body
    body["start"] = {"dateTime": _local(spec.start), "timeZone": spec.zone}
    body["end"] = {"dateTime": _local(spec.end), "timeZone": spec.zone}
    if spec.kind == "weekly":
        body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={OCCURRENCES}"]
    return body


def graph_body(spec: RemoteSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": spec.title,
        "body": {"contentType": "text", "content": "seeded by the benchmark"},
    }
    if spec.kind == "allday":
        end = spec.start + timedelta(days=1)
        body["isAllDay"] = True
        body["start"] = {"dateTime": _local(spec.start), "timeZone": spec.zone}
        body["end"] = {"dateTime": _local(end), "timeZone": spec.zone}
        return body
    body["start"] = {"dateTime": _local(spec.start), "timeZone": spec.zone}
    body["end"] = {"dateTime": _local(spec.end), "timeZone": spec.zone}
    if spec.kind == "weekly":
        body["recurrence"] = {
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": [DAYS[spec.start.weekday()]],
            },
            "range": {
                "type": "numbered",
                "startDate": spec.start.date().isoformat(),
                "numberOfOccurrences": OCCURRENCES,
            },
        }
    return body


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One host appointment for a push: the service layer's fields."""

    title: str
    start: datetime
    end: datetime
    zone: str

    def fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "start_at": self.start,
            "end_at": self.end,
            "time_zone": self.zone,
            "location": "Room 2",
            "notes": "pushed by the benchmark",
        }


def host_specs(n: int, *, now: datetime, seed: int = 11) -> list[HostSpec]:
    rng = random.Random(seed)
    out: list[HostSpec] = []
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        day = now.date() + timedelta(days=rng.randint(1, 280))
        start = datetime.combine(day, time(rng.randint(8, 17)), tzinfo=ZoneInfo(zone))
        out.append(HostSpec(f"Host entry {i}", start, start + timedelta(minutes=45), zone))
    return out


def pick(
    n: int, share: float, rng: random.Random, exclude: frozenset[int] = frozenset()
) -> list[int]:
    """``share`` of ``range(n)`` (at least one when n > 0), never from ``exclude``."""
    pool = [i for i in range(n) if i not in exclude]
    want = min(len(pool), max(1, round(n * share))) if n else 0
    return sorted(rng.sample(pool, want))
