"""The theoretical minimum request counts the bench divides by."""

from __future__ import annotations

import math

from bench import minimums
from bench.scenarios.throttled import budget_share


def test_push_is_one_listing_plus_batches() -> None:
    assert minimums.push("google", 1000) == 1 + 20
    assert minimums.push("microsoft", 1000) == 1 + 50
    assert minimums.push("google", 1) == 2
    assert minimums.push("microsoft", 0) == 1


def test_import_pages_and_graph_tags() -> None:
    assert minimums.initial_import("google", 2500, 2000) == 1
    assert minimums.initial_import("google", 2501, 2000) == 2
    assert minimums.initial_import("google", 0, 0) == 1
    assert minimums.initial_import("microsoft", 1001, 1000) == 2 + 1


def test_incremental_counts_writes_and_graph_removal_reads() -> None:
    assert minimums.incremental("google", 15, 5) == 1 + 1
    assert minimums.incremental("microsoft", 15, 5) == 1 + 1 + 1
    assert minimums.incremental("microsoft", 0, 0) == 1
    assert minimums.incremental("microsoft", 21, 41) == 1 + 2 + 3
    assert minimums.remote_change("google") == minimums.remote_change("microsoft") == 1


def test_noop_and_single_change() -> None:
    assert minimums.noop() == 1
    assert minimums.single_change() == 2
    assert minimums.ratio(3, 2) == 1.5


def test_budget_share_is_ideal_time_over_wall_time() -> None:
    assert budget_share(201, 100, 5.0, 10.0) == 1.0  # a perfect client: 100, 100, then 1
    assert budget_share(201, 100, 5.0, 12.5) == 0.8
    assert budget_share(200, 100, 5.0, 10.0) == 0.5  # it could have finished at 5 s
    assert budget_share(300, 100, 5.0, 8.0) == 1.0  # never above 1
    assert math.isnan(budget_share(100, 100, 5.0, 3.0))  # the budget never bound
