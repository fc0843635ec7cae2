"""The entry forms without a server: the repeat picker's rules, posted strings as the service's
input (the form's inclusive last day, the unused pair of times left out), stored entries as form
values, and service messages in the form's words."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from casecal.domain.entries import EntryKind
from casecal.web.ui.entry_forms import (
    FormErrors,
    field_of,
    form_values,
    parse_form,
    picker_of,
    readable,
    repeat_rule,
)

NY = "America/New_York"


@pytest.mark.parametrize(
    ("values", "all_day", "rule"),
    [
        ({}, False, None),
        ({"repeat": "DAILY", "repeat_count": "10"}, False, "FREQ=DAILY;COUNT=10"),
        ({"repeat": "MONTHLY", "repeat_until": "2026-06-30"}, True, "FREQ=MONTHLY;UNTIL=20260630"),
        # a timed series ends at the end of that day in its zone, given in UTC
        ({"repeat": "WEEKLY", "repeat_until": "2026-06-30"}, False,
         "FREQ=WEEKLY;UNTIL=20260701T035959Z"),
        ({"repeat": "custom", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"}, False,
         "FREQ=WEEKLY;BYDAY=MO,WE"),
    ],
)  # fmt: skip
def test_the_repeat_picker_makes_a_rule(
    values: dict[str, str], all_day: bool, rule: str | None
) -> None:
    assert repeat_rule(values, all_day=all_day, zone=NY) == rule


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"repeat": "custom"}, "rrule"),
        ({"repeat": "WEEKLY"}, "repeat_count"),  # a series ends
        ({"repeat": "HOURLY"}, "repeat"),
        ({"repeat": "DAILY", "repeat_count": "0"}, "repeat_count"),
        ({"repeat": "DAILY", "repeat_count": "3", "repeat_until": "2026-06-30"}, "repeat_until"),
        ({"repeat": "DAILY", "repeat_until": "June"}, "repeat_until"),
    ],
)
def test_the_repeat_picker_names_the_wrong_field(values: dict[str, str], field: str) -> None:
    with pytest.raises(FormErrors) as caught:
        repeat_rule(values, all_day=False, zone=NY)
    assert list(caught.value.errors) == [field]


def test_an_all_day_form_gives_the_day_after_and_drops_the_times() -> None:
    data = parse_form(
        EntryKind.APPOINTMENT,
        {"title": "Trip", "all_day": "on", "start_date": "2026-03-10", "end_date": "2026-03-12",
         "start_at": "2026-03-10T09:00", "time_zone": "", "location": ""},
        NY,
    )  # fmt: skip
    assert data["end_date"] == date(2026, 3, 13)
    assert "start_at" not in data
    assert data["time_zone"] == NY
    assert data["rrule"] is None


def test_model_errors_are_named_by_field_in_plain_words() -> None:
    with pytest.raises(FormErrors) as caught:
        parse_form(EntryKind.COURT_DATE, {"hearing_type": "", "duration_minutes": "x"}, NY)
    errors = caught.value.errors
    assert errors["case_id"] == "This field is required."
    assert errors["hearing_type"] == "This field is required."
    assert "duration_minutes" in errors


def test_a_stored_series_fills_the_picker_and_wall_times() -> None:
    row = SimpleNamespace(
        id=uuid.uuid4(), kind=EntryKind.APPOINTMENT, title="Stand-up", all_day=False,
        start_at=datetime(2026, 3, 10, 14, tzinfo=UTC),
        end_at=datetime(2026, 3, 10, 15, tzinfo=UTC),
        start_date=None, end_date=None, time_zone=NY, rrule="FREQ=DAILY;COUNT=5", location="",
        owner_id=uuid.uuid4(), case_id=None, private=False, show_as="busy", notes="",
    )  # fmt: skip
    values = form_values(EntryKind.APPOINTMENT, row)
    assert values["start_at"] == "2026-03-10T10:00"
    assert (values["repeat"], values["repeat_count"]) == ("DAILY", "5")
    assert picker_of("FREQ=WEEKLY;BYDAY=MO")["repeat"] == "custom"


def test_service_messages_read_in_the_forms_words() -> None:
    detail = "end_at (2026-12-05T14:00:00+00:00) is before start_at (2026-12-05T15:00:00+00:00)"
    assert readable(EntryKind.APPOINTMENT, detail, NY) == (
        "Ends (Sat 5 Dec 2026, 09:00 EST) is before Starts (Sat 5 Dec 2026, 10:00 EST)"
    )
    assert field_of(EntryKind.APPOINTMENT, "exdates") == "rrule"
    assert field_of(EntryKind.APPOINTMENT, "rrule", {"repeat": "DAILY"}) == "repeat"
    assert field_of(EntryKind.STEP_REMINDER, "start") == ""
