"""Properties of the decisions about a series' own occurrences: what a rule change keeps,
what an incoming occurrence change means, what cancellations leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain import overrides
from casecal.domain.occurrences import occurrence_keys, occurrences
from casecal.domain.policy import ConflictPolicy
from casecal.domain.recurrence import EventTime, time_key
from casecal.domain.series_decisions import (
    Kept,
    News,
    cancellation_news,
    cancelled_on_host,
    incoming_change,
    kept_on_rule_change,
)

TZ = "America/New_York"
NY = ZoneInfo(TZ)
START = datetime(2026, 3, 2, 9, 0, tzinfo=NY)  # a Monday
DAILY = "FREQ=DAILY;COUNT=28"

days = st.integers(min_value=0, max_value=27)
slots = st.lists(days, unique=True, max_size=6).map(
    lambda ds: [START + timedelta(days=d) for d in sorted(ds)]
)
rules = st.sampled_from(
    ["FREQ=DAILY;COUNT=28", "FREQ=WEEKLY;COUNT=4", "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE",
     "FREQ=DAILY;COUNT=10", "FREQ=DAILY;INTERVAL=2;COUNT=14"]
)  # fmt: skip
titles = st.sampled_from(["Moved", "Renamed", "Court"])
policies = st.sampled_from(list(ConflictPolicy))
times = st.integers(min_value=0, max_value=3).map(lambda h: datetime(2026, 3, 1, h, tzinfo=UTC))


def _change(at: datetime, title: str) -> overrides.Stored:
    moved = at + timedelta(hours=1)
    return {
        "original_start": at.isoformat(), "title": title, "start": moved.isoformat(),
        "end": (moved + timedelta(hours=1)).isoformat(), "location": "", "notes": "",
    }  # fmt: skip


State = tuple[list[str], list[overrides.Stored], dict[str, str]]


@st.composite
def series_state(draw: st.DrawFn) -> State:
    """A daily series' cancelled and changed occurrences (on distinct slots), and a link
    record of some of them."""
    chosen = draw(slots)
    split = draw(st.integers(min_value=0, max_value=len(chosen)))
    exdates = [x.isoformat() for x in chosen[:split]]
    held = [_change(x, draw(titles)) for x in chosen[split:]]
    synced: dict[str, str] = {}
    for x in exdates:
        if draw(st.booleans()):
            synced[time_key(overrides.parse_time(x))] = overrides.CANCELLED
    for o in held:
        if draw(st.booleans()):
            synced[overrides.slot(o)] = overrides.digest(o)
    return exdates, held, synced


def _keep(state: State, rule: str, *, same: bool, outlive: bool = True) -> Kept:
    exdates, held, synced = state
    return kept_on_rule_change(
        exdates, held, synced, same_rule=same, new_rule=rule, new_start=START, tz=TZ,
        exceptions_outlive_rule=outlive,
    )  # fmt: skip


@given(series_state(), rules)
def test_while_the_rule_stays_everything_is_kept(state: State, rule: str) -> None:
    kept = _keep(state, rule, same=True)
    assert (kept.cancelled, kept.changed, kept.synced) == (state[0], state[1], None)


@given(series_state(), rules)
def test_a_rule_change_keeps_exactly_what_the_new_rule_still_has(state: State, rule: str) -> None:
    exdates, held, _ = state
    kept = _keep(state, rule, same=False)
    when = [overrides.parse_time(x) for x in exdates] + [
        overrides.parse_time(o["original_start"]) for o in held
    ]
    inside = occurrence_keys(rule, START, TZ, when)
    # A cancelled occurrence outside the new rule is dropped, one inside it stays.
    assert kept.cancelled == [x for x in exdates if time_key(overrides.parse_time(x)) in inside]
    # A changed occurrence survives a rule change that still contains its slot.
    assert kept.changed == [o for o in held if overrides.slot(o) in inside]


@given(series_state(), rules, st.booleans())
def test_a_rule_change_invents_no_slot(state: State, rule: str, outlive: bool) -> None:
    exdates, held, synced = state
    kept = _keep(state, rule, same=False, outlive=outlive)
    assert set(kept.cancelled) <= set(exdates)
    assert all(o in held for o in kept.changed)
    if kept.synced is not None:
        assert kept.synced.items() <= synced.items()
        still = {time_key(overrides.parse_time(x)) for x in kept.cancelled}
        assert set(kept.synced) <= still | {overrides.slot(o) for o in kept.changed}


@given(series_state(), rules)
def test_without_the_capability_a_new_rule_resets_the_exceptions(state: State, rule: str) -> None:
    kept = _keep(state, rule, same=False, outlive=False)
    assert (kept.cancelled, kept.changed) == ([], [])
    assert kept.synced in (None, {})


@given(series_state(), rules, st.booleans())
def test_a_reset_asks_for_a_read_again_exactly_when_it_dropped_something(
    state: State, rule: str, outlive: bool
) -> None:
    exdates, held, _ = state
    kept = _keep(state, rule, same=False, outlive=outlive)
    assert kept.read_again == (not outlive and bool(exdates or held))
    assert not _keep(state, rule, same=True, outlive=outlive).read_again


@given(series_state(), rules, st.data(), st.booleans())
def test_after_a_reset_the_host_holds_the_remotes_cancellations_under_the_new_rule(
    state: State, rule: str, data: st.DataObject, read_before: bool
) -> None:
    """Graph (its exceptions do not outlive a rule; a cancellation shows as an absence): the
    remote now has ``rule`` with some occurrences cancelled. Whatever the host held, and
    whether the listing's absences were read before the series was taken (as a page does
    when it settles occurrences first) or only after, the host ends holding exactly the
    remote's cancellations: absences are read after the reset unless they were read
    before and the decision says nothing was dropped."""
    slots_now = list(occurrences(rule, START, TZ, START, START + timedelta(days=60)))
    gone = data.draw(st.lists(st.sampled_from(slots_now), unique=True, max_size=3))
    gone_keys = {time_key(x) for x in gone}

    def read_absences(
        exdates: list[str], held: list[overrides.Stored], synced: dict[str, str]
    ) -> State:
        known = {time_key(overrides.parse_time(x)) for x in exdates}
        missing: list[EventTime] = [x for x in gone if time_key(x) not in known]
        out = cancelled_on_host(cancellation_news(missing, synced), exdates, held, synced)
        return out.exdates, out.overrides, out.synced

    exdates, held, synced = state
    if read_before:
        exdates, held, synced = read_absences(exdates, held, synced)
    kept = kept_on_rule_change(
        exdates, held, synced, same_rule=False, new_rule=rule, new_start=START, tz=TZ,
        exceptions_outlive_rule=False,
    )  # fmt: skip
    exdates, held, synced = kept.cancelled, kept.changed, kept.synced or {}
    if kept.read_again or not read_before:
        exdates, held, synced = read_absences(exdates, held, synced)
    assert {time_key(overrides.parse_time(x)) for x in exdates} == gone_keys
    assert {k for k, v in synced.items() if v == overrides.CANCELLED} == gone_keys


@given(series_state(), rules, st.booleans())
def test_keeping_is_idempotent(state: State, rule: str, outlive: bool) -> None:
    once = _keep(state, rule, same=False, outlive=outlive)
    again = _keep((once.cancelled, once.changed, once.synced or {}), rule, same=False,
                  outlive=outlive)  # fmt: skip
    assert (again.cancelled, again.changed) == (once.cancelled, once.changed)
    assert (again.synced or {}) == (once.synced or {})


@given(series_state(), days, titles, policies, times, times)
def test_an_incoming_change_is_decided_once(
    state: State, day: int, title: str, policy: ConflictPolicy, host_t: datetime, remote_t: datetime
) -> None:
    _, held, synced = state
    change = _change(START + timedelta(days=day), title)
    first = incoming_change(change, synced, held, conflicts=policy, host_time=host_t,
                            remote_time=remote_t)  # fmt: skip
    # Applying the decision and hearing the same change again is an echo: idempotent.
    again = incoming_change(change, first.synced, first.overrides, conflicts=policy,
                            host_time=host_t, remote_time=remote_t)  # fmt: skip
    assert again.news is News.ECHO
    assert again.overrides == first.overrides
    assert again.synced == first.synced


@given(series_state(), days, titles, policies, times, times)
def test_an_incoming_change_touches_its_slot_only(
    state: State, day: int, title: str, policy: ConflictPolicy, host_t: datetime, remote_t: datetime
) -> None:
    _, held, synced = state
    change = _change(START + timedelta(days=day), title)
    slot = overrides.slot(change)
    d = incoming_change(change, synced, held, conflicts=policy, host_time=host_t,
                        remote_time=remote_t)  # fmt: skip
    others = [o for o in held if overrides.slot(o) != slot]
    assert [o for o in d.overrides if overrides.slot(o) != slot] == others
    assert {k: v for k, v in d.synced.items() if k != slot} == {
        k: v for k, v in synced.items() if k != slot
    }
    mine = next((o for o in d.overrides if overrides.slot(o) == slot), None)
    if d.news.takes:
        assert mine == change
    else:
        assert mine == next((o for o in held if overrides.slot(o) == slot), None)


@given(series_state(), days, titles, policies, times, times)
def test_a_conflict_is_a_change_on_both_sides(
    state: State, day: int, title: str, policy: ConflictPolicy, host_t: datetime, remote_t: datetime
) -> None:
    _, held, synced = state
    change = _change(START + timedelta(days=day), title)
    slot = overrides.slot(change)
    d = incoming_change(change, synced, held, conflicts=policy, host_time=host_t,
                        remote_time=remote_t)  # fmt: skip
    mine = next((o for o in held if overrides.slot(o) == slot), None)
    host_changed = (overrides.digest(mine) if mine is not None else None) != synced.get(slot)
    if d.news.conflict:
        assert host_changed
        assert mine != change
    elif d.news is News.TAKE:
        assert not host_changed
    if policy is ConflictPolicy.HOST_WINS:
        assert d.news is not News.CONFLICT_REMOTE_WINS
    if policy is ConflictPolicy.REMOTE_WINS:
        assert d.news is not News.CONFLICT_HOST_WINS


@given(series_state(), slots)
def test_cancellations_are_idempotent_and_invent_nothing(
    state: State, missing: list[datetime]
) -> None:
    exdates, held, synced = state
    news = cancellation_news(missing, synced)
    assert all(m in missing for m in news)
    once = cancelled_on_host(news, exdates, held, synced)
    keys = {time_key(m) for m in missing}
    assert {time_key(overrides.parse_time(x)) for x in once.exdates} <= keys | {
        time_key(overrides.parse_time(x)) for x in exdates
    }
    assert all(once.synced[time_key(m)] == overrides.CANCELLED for m in news)
    assert all(o in held for o in once.overrides)
    if once.added:
        gone = {time_key(m) for m in news}
        assert all(overrides.slot(o) not in gone for o in once.overrides)
    # Heard again, the same cancellations are no news.
    assert cancellation_news(missing, once.synced) == []
    again = cancelled_on_host(news, once.exdates, once.overrides, once.synced)
    assert (again.exdates, again.overrides, again.added) == (once.exdates, once.overrides, 0)


def test_an_echo_of_a_known_cancellation_is_no_news() -> None:
    at = START + timedelta(days=3)
    synced = {time_key(at): overrides.CANCELLED}
    assert cancellation_news([at], synced) == []
    assert cancellation_news([at], {}) == [at]
    assert occurrence_keys(DAILY, START, TZ, [at]) == {time_key(at)}
