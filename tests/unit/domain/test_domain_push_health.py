"""The pure judgement of push channel health: which passes carry remote news, and when a
channel missed announcing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.push_health import RunSeen, missed_change, remote_changed

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_remote_news_is_what_came_in_except_skips_and_adoptions() -> None:
    assert remote_changed({"in": {"appointment.create": 1}, "out": {}})
    assert remote_changed({"in": {"appointment.occurrence_cancelled": 2}})
    assert not remote_changed({"in": {}, "out": {"court_date.create": 3}})
    assert not remote_changed({"in": {"unknown.skipped": 4, "appointment.adopt": 1}})
    assert not remote_changed({"in": {"court_date.foreign_tag_skipped": 1}})
    assert not remote_changed({"in": {"appointment.create": 0}})
    assert not remote_changed({})


def test_news_the_channel_never_announced_is_a_miss() -> None:
    runs = [RunSeen(at(10), False), RunSeen(at(20), True)]
    assert missed_change(at(0), None, runs) == runs[1]
    assert missed_change(at(0), at(5), runs) == runs[1]  # valid only before the change window


def test_news_announced_after_the_previous_pass_started_is_no_miss() -> None:
    runs = [RunSeen(at(10), False), RunSeen(at(20), True)]
    assert missed_change(at(0), at(15), runs) is None
    assert missed_change(at(0), at(10), runs) is None


def test_news_from_before_the_channel_existed_is_no_miss() -> None:
    runs = [RunSeen(at(10), False), RunSeen(at(20), True)]
    assert missed_change(at(12), None, runs) is None  # opened after the previous pass began


def test_a_first_pass_alone_proves_nothing() -> None:
    assert missed_change(at(0), None, [RunSeen(at(10), True)]) is None
    assert missed_change(at(0), None, []) is None


@given(
    st.lists(st.tuples(st.integers(0, 1000), st.booleans()), max_size=12),
    st.integers(0, 1000),
    st.one_of(st.none(), st.integers(0, 1000)),
)
def test_a_miss_always_has_a_previous_pass_within_the_channels_silence(
    raw: list[tuple[int, bool]], created: int, valid: int | None
) -> None:
    runs = [RunSeen(at(m), changed) for m, changed in sorted(raw)]
    miss = missed_change(at(created), None if valid is None else at(valid), runs)
    if miss is None:
        return
    assert miss.changed
    index = next(i for i, run in enumerate(runs) if run is miss)
    previous = runs[index - 1]
    assert index >= 1
    assert previous.started_at >= at(created)
    assert valid is None or at(valid) < previous.started_at
