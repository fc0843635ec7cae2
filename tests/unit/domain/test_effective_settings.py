"""The effective value of a setting from the firm, team and user levels with locks."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.effective_settings import (
    EffectiveSettings,
    Source,
    Stored,
    effective,
    effective_all,
    lock_above,
)
from casecal.domain.entries import EntryKind
from casecal.domain.guard import DEFAULT_LIMITS
from casecal.domain.policy import ConflictPolicy, RemoteDeletes
from casecal.domain.settings_catalog import (
    CATALOGUE,
    MAX_REMINDER_MINUTES,
    MAX_REMINDERS,
    TOP_DOWN,
    InvalidValue,
    Level,
    SettingSpec,
    ValueType,
    legacy_firm_values,
)

specs = st.sampled_from(list(CATALOGUE.values()))
json_values = st.one_of(
    st.booleans(),
    st.integers(-1000, 200_000),
    st.text(max_size=12),
    st.lists(st.one_of(st.text(max_size=10), st.integers(-10, 50_000)), max_size=7),
    st.sampled_from(["on", "off", "opt_in", "busy", "private", "google", "restore"]),
)


def valid_values(spec: SettingSpec) -> st.SearchStrategy[object]:
    match spec.type:
        case ValueType.BOOL:
            return st.booleans()
        case ValueType.INT:
            return st.integers(spec.minimum or 0, spec.maximum or 10_000)
        case ValueType.CHOICE:
            return st.sampled_from(spec.allowed)
        case ValueType.CHOICES:
            return st.lists(st.sampled_from(spec.allowed), unique=True)
        case ValueType.MINUTES:
            return st.lists(st.integers(0, MAX_REMINDER_MINUTES), max_size=MAX_REMINDERS)
    raise AssertionError(spec.type)


@st.composite
def setting_with_levels(
    draw: st.DrawFn, *, valid: bool = True, locks: bool = True
) -> tuple[SettingSpec, dict[Level, Stored]]:
    spec = draw(specs)
    values = valid_values(spec) if valid else st.one_of(valid_values(spec), json_values)
    levels = {}
    settable = [lv for lv in TOP_DOWN if lv in spec.settable_at]
    for level in draw(st.sets(st.sampled_from(settable))):
        locked = draw(st.booleans()) if locks else False
        levels[level] = Stored(draw(values), locked=locked, set_by=uuid.uuid4())
    return spec, levels


def _first_lock(spec: SettingSpec, levels: dict[Level, Stored]) -> Level | None:
    return next(
        (lv for lv in TOP_DOWN if lv in levels and levels[lv].locked and lv in spec.lockable_at),
        None,
    )


@given(setting_with_levels())
def test_a_lock_wins_over_every_level_below_it(
    case: tuple[SettingSpec, dict[Level, Stored]],
) -> None:
    spec, levels = case
    lock = _first_lock(spec, levels)
    result = effective(spec, levels)
    if lock is None:
        assert result.locked_by is None
        return
    assert result.locked_by is lock
    assert result.source == Source(lock.value)
    assert result.value == spec.parse(levels[lock].value)
    assert result.lock_set_by == levels[lock].set_by
    for below in TOP_DOWN[TOP_DOWN.index(lock) + 1 :]:
        assert lock_above(spec, levels, below) is lock
        for other in (None, Stored(spec.default, locked=True), Stored(spec.default)):
            changed = dict(levels)
            if other is None:
                changed.pop(below, None)
            else:
                changed[below] = other
            assert effective(spec, changed) == result


@given(specs.flatmap(lambda s: st.tuples(st.just(s), valid_values(s), valid_values(s))),
       st.booleans())  # fmt: skip
def test_a_team_cannot_unlock_what_the_firm_locked(
    case: tuple[SettingSpec, object, object], team_locks: bool
) -> None:
    spec, firm_value, team_value = case
    firm = Stored(firm_value, locked=True)
    for team in (Stored(team_value, locked=team_locks), Stored(team_value, locked=False), None):
        levels = {Level.FIRM: firm} if team is None else {Level.FIRM: firm, Level.TEAM: team}
        levels[Level.USER] = Stored(team_value)
        result = effective(spec, levels)
        assert (result.value, result.locked_by) == (spec.parse(firm_value), Level.FIRM)
        assert lock_above(spec, levels, Level.TEAM) is Level.FIRM
        assert lock_above(spec, levels, Level.USER) is Level.FIRM


@given(setting_with_levels(locks=False))
def test_removing_a_value_falls_back_to_the_next_level_up(
    case: tuple[SettingSpec, dict[Level, Stored]],
) -> None:
    spec, levels = case
    for level in reversed(TOP_DOWN):
        if level not in levels:
            continue
        assert effective(spec, levels).source == Source(level.value)  # the lowest one set
        del levels[level]
        above = [lv for lv in TOP_DOWN if lv in levels]
        result = effective(spec, levels)
        if above:
            assert (result.value, result.source) == (
                spec.parse(levels[above[-1]].value),
                Source(above[-1].value),
            )
        else:
            assert (result.value, result.source) == (spec.default, Source.DEFAULT)


@given(
    st.lists(
        st.tuples(specs, st.sampled_from(TOP_DOWN), json_values, st.booleans()),
        max_size=20,
        unique_by=lambda w: (w[0].key, w[1]),
    ),
    st.randoms(use_true_random=False),
)
def test_the_result_does_not_depend_on_the_order_of_writes(
    writes: list[tuple[SettingSpec, Level, object, bool]], rnd: object
) -> None:
    def store(order: list[tuple[SettingSpec, Level, object, bool]]) -> EffectiveSettings:
        stored: dict[Level, dict[str, Stored]] = {}
        for spec, level, value, locked in order:
            stored.setdefault(level, {})[spec.key] = Stored(value, locked=locked)
        return effective_all(stored)

    shuffled = list(writes)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert dict(store(writes)) == dict(store(shuffled))
    assert dict(store(writes)) == dict(store(list(reversed(writes))))


@given(setting_with_levels(valid=False))
def test_the_effective_value_always_fits_its_setting(
    case: tuple[SettingSpec, dict[Level, Stored]],
) -> None:
    spec, levels = case
    result = effective(spec, levels)
    assert spec.is_valid(result.value)
    assert spec.parse(result.value) == result.value  # already in normal form
    if not any(spec.is_valid(stored.value) for stored in levels.values()):
        assert (result.value, result.source) == (spec.default, Source.DEFAULT)


def test_nothing_set_is_todays_behaviour() -> None:
    settings = effective_all({})
    assert all(e.source is Source.DEFAULT and e.locked_by is None for e in settings.values())
    assert settings.syncs(EntryKind.COURT_DATE, opted_in=False)
    assert settings.syncs(EntryKind.INTERVIEW, opted_in=False)
    assert not settings.syncs(EntryKind.STEP_REMINDER, opted_in=False)
    assert settings.syncs(EntryKind.STEP_REMINDER, opted_in=True)
    assert settings.limits() == DEFAULT_LIMITS
    assert settings.conflicts() is ConflictPolicy.NEWER_WINS
    assert settings.remote_deletes(EntryKind.COURT_DATE) is RemoteDeletes.RESTORE
    assert settings.reminders(EntryKind.COURT_DATE) == (24 * 60, 2 * 60)
    assert settings.busy(EntryKind.COURT_DATE)
    assert not settings.busy(EntryKind.STEP_REMINDER)
    assert not settings.private(EntryKind.INTERVIEW)
    assert settings.providers_allowed() == {"google", "microsoft", "caldav"}
    assert settings.invite_kinds() == frozenset()
    assert not settings.flag("sso.ask_to_connect")
    assert not settings.flag("connections.require_approval")  # connections sync at once


def test_a_firm_lock_turning_court_dates_off_beats_a_user_who_turned_them_on() -> None:
    settings = effective_all(
        {
            Level.FIRM: {"sync.court_date": Stored("off", locked=True)},
            Level.USER: {"sync.court_date": Stored("on")},
        }
    )
    assert not settings.syncs(EntryKind.COURT_DATE, opted_in=True)
    assert settings["sync.court_date"].locked_by is Level.FIRM


def test_a_user_level_lock_is_not_a_lock() -> None:
    spec = CATALOGUE["sync.interview"]
    result = effective(spec, {Level.USER: Stored("off", locked=True)})
    assert (result.value, result.source, result.locked_by) == ("off", Source.USER, None)


def test_the_legacy_firm_settings_become_firm_values() -> None:
    values = legacy_firm_values(
        {"conflicts": "host_wins", "remote_deletes": "respect", "graph_invite_attendees": ["x"]}
    )
    assert values["conflicts.appointment"] == "host_wins"
    assert values["remote_deletes.court_date"] == "respect"
    assert "invitations.graph_attendees" not in values  # an unknown kind does not fit
    assert legacy_firm_values(None) == {}


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("guard.percent", 101, "within 0..100"),
        ("guard.percent", True, "whole number"),
        ("sync.court_date", "opt_in", "one of on, off"),
        ("providers.allowed", ["yahoo"], "list of google, microsoft"),
        ("reminders.interview", [1, 2, 3, 4, 5, 6], "at most 5"),
        ("conflicts.appointment", "newest", "one of newer_wins"),
    ],
)
def test_values_that_do_not_fit_are_refused_with_the_reason(
    key: str, raw: object, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        CATALOGUE[key].parse(raw)


def test_values_are_kept_in_normal_form() -> None:
    assert CATALOGUE["providers.allowed"].parse(["microsoft", "google"]) == ["google", "microsoft"]
    assert CATALOGUE["reminders.court_date"].parse([60, 1440, 60]) == [1440, 60]


@given(st.booleans(), st.booleans())
def test_a_value_stored_where_the_setting_is_not_set_is_never_in_force(
    firm: bool, user: bool
) -> None:
    spec = CATALOGUE["connections.require_approval"]
    assert spec.settable_at == {Level.FIRM, Level.TEAM}
    levels = {Level.FIRM: Stored(firm, set_by=uuid.uuid4()),
              Level.USER: Stored(user, set_by=uuid.uuid4())}  # fmt: skip
    result = effective(spec, levels)
    assert (result.value, result.source) == (firm, Source.FIRM)
