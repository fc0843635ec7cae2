"""RRULE normalisation and RRULE <-> Graph patternedRecurrence, including the rules Graph
cannot express (which must raise, never be changed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.recurrence import (
    BadRecurrence,
    Recurrence,
    UnrepresentableRecurrence,
    from_graph_recurrence,
    normalise_rrule,
    same_rule,
    to_graph_recurrence,
)

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2024, 3, 4, 9, 0, tzinfo=NY)  # first Monday of March, before the DST change


def graph(rule: str, start: datetime | date = MONDAY) -> dict[str, Any]:
    return to_graph_recurrence(Recurrence(rrules=(rule,)), start, "Eastern Standard Time")


@pytest.mark.parametrize(
    ("rule", "canonical"),
    [
        ("RRULE:FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=MO"),
        ("FREQ=WEEKLY;INTERVAL=1;WKST=SU;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("freq=daily;byday=tu,mo", "FREQ=WEEKLY;BYDAY=MO,TU"),
        ("FREQ=MONTHLY", "FREQ=MONTHLY;BYMONTHDAY=4"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", "FREQ=MONTHLY;BYDAY=1MO"),
        ("FREQ=YEARLY", "FREQ=YEARLY;BYMONTHDAY=4;BYMONTH=3"),
        ("FREQ=WEEKLY;INTERVAL=2;WKST=SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU"),
    ],
)
def test_equivalent_rules_normalise_alike(rule: str, canonical: str) -> None:
    assert normalise_rrule(rule, MONDAY) == canonical
    assert normalise_rrule(canonical, MONDAY) == canonical


def test_until_becomes_the_start_of_the_last_occurrence() -> None:
    # 12:00Z on April 1 is 08:00 EDT, before that day's 09:00 occurrence: March 31 is the last day
    rule = normalise_rrule("FREQ=DAILY;UNTIL=20240401T120000Z", MONDAY)
    assert rule == "FREQ=DAILY;UNTIL=20240331T130000Z"  # 09:00 EDT, after the DST change
    assert normalise_rrule("FREQ=DAILY;UNTIL=20240331", MONDAY) == rule
    assert normalise_rrule("FREQ=DAILY;UNTIL=20240331T235959Z", date(2024, 3, 4)) == (
        "FREQ=DAILY;UNTIL=20240331"
    )


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;COUNT=2;UNTIL=20240101", "FREQ=SOMETIMES", "FREQ=DAILY;COLOR=RED", "X"]
)
def test_invalid_rules_are_rejected(rule: str) -> None:
    with pytest.raises(BadRecurrence):
        normalise_rrule(rule, MONDAY)


def test_graph_patterns_both_ways() -> None:
    cases = {
        "FREQ=DAILY;INTERVAL=3": {"type": "daily", "interval": 3},
        "FREQ=WEEKLY;BYDAY=MO,WE,FR": {
            "type": "weekly",
            "interval": 1,
            "daysOfWeek": ["monday", "wednesday", "friday"],
            "firstDayOfWeek": "monday",
        },
        "FREQ=MONTHLY;BYMONTHDAY=4": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 4},
        "FREQ=MONTHLY;BYDAY=1MO": {
            "type": "relativeMonthly",
            "interval": 1,
            "daysOfWeek": ["monday"],
            "index": "first",
        },
        "FREQ=YEARLY;BYMONTHDAY=4;BYMONTH=3": {
            "type": "absoluteYearly",
            "interval": 1,
            "month": 3,
            "dayOfMonth": 4,
        },
    }
    for rule, pattern in cases.items():
        data = graph(rule)
        assert data["pattern"] == pattern, rule
        assert from_graph_recurrence(data, MONDAY) == rule


def test_last_weekday_of_month_via_bysetpos() -> None:
    last_friday = datetime(2024, 3, 29, 9, tzinfo=NY)
    rule = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
    data = graph(rule, last_friday)
    assert data["pattern"]["index"] == "last"
    assert from_graph_recurrence(data, last_friday) == rule


def test_graph_ranges() -> None:
    assert graph("FREQ=DAILY")["range"] == {
        "type": "noEnd",
        "startDate": "2024-03-04",
        "recurrenceTimeZone": "Eastern Standard Time",
    }
    numbered = graph("FREQ=DAILY;COUNT=5")["range"]
    assert numbered["type"] == "numbered"
    assert numbered["numberOfOccurrences"] == 5
    until = graph("FREQ=DAILY;UNTIL=20240401T120000Z")
    assert until["range"]["endDate"] == "2024-03-31"
    assert from_graph_recurrence(until, MONDAY) == "FREQ=DAILY;UNTIL=20240331T130000Z"


def test_all_day_series_until_is_a_date() -> None:
    start = date(2024, 3, 4)
    data = to_graph_recurrence(Recurrence(rrules=("FREQ=WEEKLY;UNTIL=20240325",)), start, "UTC")
    assert data["range"]["endDate"] == "2024-03-25"
    assert from_graph_recurrence(data, start) == "FREQ=WEEKLY;UNTIL=20240325;BYDAY=MO"


def test_graph_default_first_day_of_week_matters_only_with_an_interval() -> None:
    weekly = {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]}}
    assert from_graph_recurrence(weekly, MONDAY) == "FREQ=WEEKLY;BYDAY=MO"
    weekly["pattern"]["interval"] = 2
    assert from_graph_recurrence(weekly, MONDAY) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=HOURLY", "hourly"),
        ("FREQ=MINUTELY;INTERVAL=15", "minutely"),
        ("FREQ=DAILY;BYHOUR=9,17", "daily"),
        ("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,2", "single BYSETPOS"),
        ("FREQ=MONTHLY;BYDAY=5MO", "first..fourth"),
        ("FREQ=MONTHLY;BYDAY=-2MO", "first..fourth"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", "short month"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "short month"),
        ("FREQ=YEARLY;BYYEARDAY=100", "exactly one BYMONTH"),
        ("FREQ=YEARLY;BYWEEKNO=10;BYMONTH=3", "combination"),
        ("FREQ=WEEKLY;BYDAY=TU", "not an occurrence"),
    ],
)
def test_rules_graph_cannot_express_raise(rule: str, reason: str) -> None:
    with pytest.raises(UnrepresentableRecurrence, match=reason) as info:
        graph(rule)
    assert "Microsoft Graph cannot express" in str(info.value)


def test_rdate_exrule_and_several_rules_raise() -> None:
    for rec in (
        Recurrence(rrules=("FREQ=DAILY",), rdates=(datetime(2024, 5, 1, 9, tzinfo=NY),)),
        Recurrence(rrules=("FREQ=DAILY",), exrules=("FREQ=WEEKLY",)),
        Recurrence(rrules=("FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO")),
        Recurrence(),
    ):
        with pytest.raises(UnrepresentableRecurrence):
            to_graph_recurrence(rec, MONDAY, "Eastern Standard Time")


def test_exdates_align_to_the_series() -> None:
    rec = Recurrence(
        rrules=("FREQ=DAILY",),
        exdates=(date(2024, 3, 11), datetime(2024, 3, 11, 13, tzinfo=ZoneInfo("UTC"))),
    ).normalised(MONDAY)
    # a date on a timed series means that day's occurrence; both spell the same instant
    assert rec.exdates == (datetime(2024, 3, 11, 9, tzinfo=NY),)
    with pytest.raises(BadRecurrence):
        Recurrence(rrules=("FREQ=DAILY",), exdates=(MONDAY,)).normalised(date(2024, 3, 4))


def test_same_rule_reads_each_rule_from_its_own_start() -> None:
    sunday = datetime(2026, 12, 6, 21, 0, tzinfo=ZoneInfo("America/New_York"))
    assert same_rule("FREQ=WEEKLY;COUNT=3", sunday, "FREQ=WEEKLY;COUNT=3;BYDAY=SU", sunday)
    # The same instant read in UTC falls on Monday: the weekday a plain WEEKLY takes differs.
    assert not same_rule(
        "FREQ=WEEKLY;COUNT=3", sunday.astimezone(UTC), "FREQ=WEEKLY;COUNT=3;BYDAY=SU", sunday
    )
    assert not same_rule("FREQ=WEEKLY;COUNT=3", sunday, "FREQ=WEEKLY;COUNT=4", sunday)
    assert not same_rule(None, sunday, "FREQ=WEEKLY", sunday)
