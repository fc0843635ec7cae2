"""The profiles' breakdown rules (``bench/profiles/breakdown.py``): which category a sampled
stack goes to, which samples are left out as waiting, and how shares are weighted by each
thread's measured CPU. Stacks are written as py-spy collapses them, root first."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.profiles.breakdown import Profile, classify, frames, waiting

MAIN = (
    "<module> (<string>);child (bench/profile_scenarios.py);run (asyncio/runners.py);"
    "BaseEventLoop._run_once (asyncio/base_events.py)"
)
"""The loop thread's root, as every sample of a profiled pass starts."""
SQLITE = "Thread._bootstrap (threading.py);Thread.run (threading.py)"
"""The root of aiosqlite's connection thread."""


def stack(*tail: str, root: str = MAIN) -> str:
    return ";".join((root, *tail))


def category(text: str) -> tuple[str, str]:
    return classify(frames(text))


def test_frames_are_function_and_file_root_first() -> None:
    assert frames("a (x/y.py);B.c (z.py)") == [("a", "x/y.py"), ("B.c", "z.py")]


def test_the_leaf_library_names_the_category() -> None:
    sql = stack(
        "SyncEngine.run_pass (casecal/sync/engine.py)",
        "AsyncSession.execute (sqlalchemy/ext/asyncio/session.py)",
    )
    assert category(sql) == (
        "ORM and SQL",
        "AsyncSession.execute (sqlalchemy/ext/asyncio/session.py)",
    )
    plan = stack("settle (casecal/sync/pull.py)", "plan (casecal/domain/plan.py)")
    assert category(plan)[0] == "plan"


def test_the_first_category_from_the_leaf_wins() -> None:
    # json called from the canonical event's fingerprint is JSON work, not the event's
    fingerprint = stack(
        "CanonicalEvent.fingerprint (casecal/domain/event.py)",
        "dumps (json/__init__.py)",
        "JSONEncoder.encode (json/encoder.py)",
    )
    assert category(fingerprint)[0] == "JSON"
    own = stack(
        "dumps (json/__init__.py)",
        "CanonicalEvent.fingerprint (casecal/domain/event.py)",
    )
    assert category(own)[0] == "canonical event"


def test_socket_and_transport_frames_are_their_callers_time() -> None:
    send = stack(
        "AsyncClient.send (httpx/_client.py)",
        "AnyIOStream.write (httpcore/_backends/anyio.py)",
        "_SelectorSocketTransport.write (asyncio/selector_events.py)",
        "socket.send (socket.py)",
    )
    assert category(send)[0] == "HTTP client"


def test_the_loops_own_wake_ups_are_asyncio() -> None:
    wake = stack("BaseSelectorEventLoop._read_from_self (asyncio/selector_events.py)")
    assert category(wake)[0] == "asyncio"
    assert category(stack("BaseEventLoop.time (asyncio/base_events.py)"))[0] == "asyncio"


def test_casecal_code_no_category_claims_is_other_by_its_module() -> None:
    # the event loop at the root must not claim the application's own code
    leaf = stack("SyncEngine._run_pass (casecal/sync/engine.py)")
    assert category(leaf) == ("other", "casecal.sync.engine.SyncEngine._run_pass")
    below = stack("link_state (casecal/sync/links.py)", "len (<builtin>)")
    assert category(below) == ("other", "casecal.sync.links.link_state")


def test_an_unclaimed_stack_outside_casecal_is_other_by_its_leaf() -> None:
    assert category("f (somewhere/else.py)") == ("other", "f (somewhere/else.py)")


def test_only_the_loop_waiting_in_epoll_is_waiting() -> None:
    assert waiting(frames(stack("EpollSelector.select (selectors.py)")))
    assert not waiting(frames(stack("EpollSelector.select (selectors.py)", "poll (x.py)")))
    assert not waiting([])


@pytest.fixture
def folded(tmp_path: Path) -> Path:
    """A profile of 10 counted samples: 6 on the loop thread (3 plan, 2 HTTP, 1 SQL through
    the ORM), 4 on the SQLite thread, plus 5 of the loop waiting in epoll."""
    lines = [
        stack("settle (casecal/sync/pull.py)", "plan (casecal/domain/plan.py)") + " 3",
        stack("settle (casecal/sync/pull.py)", "AsyncClient.send (httpx/_client.py)") + " 2",
        stack("settle (casecal/sync/pull.py)", "Session.get (sqlalchemy/orm/session.py)") + " 1",
        stack("_connection_worker_thread (aiosqlite/core.py)", root=SQLITE) + " 4",
        stack("EpollSelector.select (selectors.py)") + " 5",
        "",
    ]
    path = tmp_path / "noop-google.folded"
    path.write_text("\n".join(lines))
    return path


def test_a_profile_counts_samples_by_category_and_thread(folded: Path) -> None:
    profile = Profile.read(folded)
    assert (profile.samples, profile.waiting) == (10, 5)
    assert profile.by_category == {"plan": 3, "HTTP client": 2, "ORM and SQL": 5}
    assert profile.by_thread["loop"] == {"plan": 3, "HTTP client": 2, "ORM and SQL": 1}
    assert profile.by_thread["sqlite"] == {"ORM and SQL": 4}
    assert profile.thread_share() == pytest.approx(0.4)
    # CaseCal functions on the stack, counted once per sample
    assert profile.inclusive["casecal.sync.pull.settle"] == 6
    assert profile.inclusive["casecal.domain.plan.plan"] == 3


def test_shares_without_weights_are_shares_of_the_samples(folded: Path) -> None:
    profile = Profile.read(folded)
    assert profile.share("ORM and SQL") == pytest.approx(0.5)
    assert profile.share("plan") == pytest.approx(0.3)
    assert profile.share("asyncio") == 0.0


def test_shares_are_weighted_by_each_threads_measured_cpu(folded: Path) -> None:
    # the SQLite thread had 40% of the samples but 20% of the CPU: it was sampled while blocked
    profile = Profile.read(folded)
    profile.weights = {"loop": 0.8, "sqlite": 0.2}
    assert profile.share("ORM and SQL") == pytest.approx(0.8 * 1 / 6 + 0.2)
    assert profile.share("plan") == pytest.approx(0.8 * 3 / 6)
    assert profile.share("HTTP client") == pytest.approx(0.8 * 2 / 6)
    total = sum(profile.share(c) for c in ("ORM and SQL", "plan", "HTTP client"))
    assert total == pytest.approx(1.0)
    assert profile.raw_share("ORM and SQL") == pytest.approx(0.5)


def test_the_provider_packages_codecs_are_the_codec_category() -> None:
    for module in ("google/codec.py", "google/json.py", "msgraph/wire.py", "_graph_json.py"):
        decode = stack("pull (casecal/sync/pull.py)", f"to_canonical (casecal/providers/{module})")
        assert category(decode)[0] == "provider codec", module
    adapter = stack("GoogleAdapter.changes (casecal/providers/google/adapter.py)")
    assert category(adapter)[0] == "other"
