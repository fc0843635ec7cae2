"""The seeded workloads: the issue's mix of kinds, zones, determinism and the occurrence ids."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime

from bench.workload import (
    ZONES,
    google_body,
    graph_body,
    host_specs,
    kind_counts,
    pick,
    remote_specs,
)

TODAY = date(2026, 3, 1)


def test_mix_is_80_15_5() -> None:
    assert kind_counts(1000) == {"single": 800, "weekly": 150, "allday": 50}
    assert sum(kind_counts(37).values()) == 37
    specs = remote_specs(1000, today=TODAY)
    assert Counter(s.kind for s in specs) == Counter(kind_counts(1000))
    assert {s.zone for s in specs} == set(ZONES)


def test_specs_are_deterministic_and_in_the_future() -> None:
    first, again = remote_specs(200, today=TODAY), remote_specs(200, today=TODAY)
    assert first == again
    assert all(s.start.date() > TODAY for s in first)
    assert host_specs(5, now=datetime(2026, 3, 1, tzinfo=UTC)) == host_specs(
        5, now=datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_occurrence_stamp_keeps_wall_time_across_dst() -> None:
    spec = next(s for s in remote_specs(400, today=TODAY) if s.kind == "weekly")
    stamps = [spec.occurrence_stamp(i) for i in range(10)]
    assert stamps[0] == spec.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert len(set(stamps)) == 10


def test_bodies_per_kind() -> None:
    specs = {s.kind: s for s in remote_specs(100, today=TODAY)}
    assert google_body(specs["allday"])["start"].keys() == {"date"}
    assert google_body(specs["weekly"])["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=10"]
    weekly = graph_body(specs["weekly"])
    assert weekly["recurrence"]["range"]["startDate"] == specs["weekly"].start.date().isoformat()
    assert graph_body(specs["allday"])["isAllDay"] is True
    assert "recurrence" not in graph_body(specs["single"])


def test_pick_takes_a_share_disjoint_from_exclude() -> None:
    rng = random.Random(1)
    first = pick(1000, 0.01, rng)
    second = pick(1000, 0.005, rng, frozenset(first))
    assert len(first) == 10
    assert len(second) == 5
    assert not set(first) & set(second)
    assert pick(10, 0.01, rng) != []
    assert pick(0, 0.5, rng) == []
