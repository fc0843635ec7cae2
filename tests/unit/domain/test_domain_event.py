"""The canonical event: validation, normalisation and what the fingerprint covers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent, InvalidEvent, Override
from casecal.domain.recurrence import Recurrence
from casecal.domain.tags import Tag

NY = ZoneInfo("America/New_York")


def meeting(**changes: object) -> CanonicalEvent:
    base = CanonicalEvent(
        title="Intake",
        start=datetime(2024, 3, 4, 9, tzinfo=NY),
        end=datetime(2024, 3, 4, 10, tzinfo=NY),
        tz="America/New_York",
        description="Bring passport",
        location="Office",
        reminders=(15,),
        attendees=(Attendee("ana@example.com", "Ana"),),
        categories=("CaseCal",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_times_are_kept_in_the_event_zone() -> None:
    event = meeting(start=datetime(2024, 3, 4, 14, tzinfo=UTC))
    assert event.start == datetime(2024, 3, 4, 9, tzinfo=NY)
    assert isinstance(event.start, datetime)
    assert event.start.tzinfo is ZoneInfo("America/New_York")


def test_a_wall_time_the_zone_skips_is_the_real_time_providers_read() -> None:
    # 02:00-02:59 do not exist in New York on 10 March 2024; Google and Graph read 02:00 as 03:00
    event = meeting(start=datetime(2024, 3, 10, 1, 45, tzinfo=NY),
                    end=datetime(2024, 3, 10, 2, 0, tzinfo=NY))  # fmt: skip
    assert event.end.replace(tzinfo=None) == datetime(2024, 3, 10, 3, 0)  # type: ignore[union-attr]
    assert event.start.replace(tzinfo=None) == datetime(2024, 3, 10, 1, 45)  # type: ignore[union-attr]
    assert event == meeting(start=datetime(2024, 3, 10, 6, 45, tzinfo=UTC),
                            end=datetime(2024, 3, 10, 7, 0, tzinfo=UTC))  # fmt: skip
    ambiguous = meeting(start=datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NY),
                        end=datetime(2024, 11, 3, 2, 30, tzinfo=NY))  # fmt: skip
    assert ambiguous.start.fold == 1  # an hour that happens twice keeps which one it is


@pytest.mark.parametrize(
    "changes",
    [
        {"end": datetime(2024, 3, 4, 8, tzinfo=NY)},
        {"start": date(2024, 3, 4)},
        {"start": datetime(2024, 3, 4, 9), "end": datetime(2024, 3, 4, 10)},
        {"start": date(2024, 3, 4), "end": date(2024, 3, 4)},
        {"reminders": (-5,)},
        {
            "overrides": (
                Override(
                    date(2024, 3, 4), CanonicalEvent("x", date(2024, 3, 4), date(2024, 3, 5), "UTC")
                ),
            )
        },
    ],
)
def test_contradictions_are_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidEvent):
        meeting(**changes)


def test_all_day_events_are_dates_with_exclusive_end() -> None:
    event = meeting(start=date(2024, 3, 4), end=date(2024, 3, 5))
    assert event.all_day
    assert event.end == date(2024, 3, 5)


def test_fingerprint_ignores_tag_and_attendee_responses() -> None:
    tag = Tag(uuid.uuid4(), EntryKind.APPOINTMENT, uuid.uuid4())
    answered = meeting(attendees=(Attendee("ana@example.com", "Ana", "accepted"),), tag=tag)
    assert answered.fingerprint() == meeting().fingerprint()


def test_fingerprint_ignores_representation() -> None:
    same = meeting(
        start=datetime(2024, 3, 4, 14, tzinfo=UTC),
        end=datetime(2024, 3, 4, 15, 0, 0, 400, tzinfo=UTC),
        description="Bring passport \r\n",
        attendees=(Attendee("ANA@example.com ", "Ana"),),
        reminders=(15, 15),
    )
    assert same.fingerprint() == meeting().fingerprint()


def test_fingerprint_treats_zones_with_one_windows_name_alike() -> None:
    toronto = meeting(tz="America/Toronto")
    assert toronto.fingerprint() == meeting().fingerprint()
    assert meeting(tz="America/Chicago").fingerprint() != meeting().fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Intake 2"},
        {"description": "Bring passport and I-94"},
        {"location": "Court"},
        {"end": datetime(2024, 3, 4, 11, tzinfo=NY)},
        {"reminders": (30,)},
        {"attendees": ()},
        {"attendees": (Attendee("ana@example.com", "Ana D"),)},
        {"private": True},
        {"busy": False},
        {"categories": ()},
        {"recurrence": Recurrence(rrules=("FREQ=DAILY",))},
    ],
)
def test_fingerprint_changes_with_each_mapped_field(changes: dict[str, object]) -> None:
    assert meeting(**changes).fingerprint() != meeting().fingerprint()


def test_recurrence_equivalents_hash_equal_and_cancellations_count() -> None:
    weekly = meeting(recurrence=Recurrence(rrules=("FREQ=WEEKLY",)))
    spelled = meeting(recurrence=Recurrence(rrules=("RRULE:FREQ=WEEKLY;BYDAY=MO;INTERVAL=1",)))
    assert weekly == spelled
    assert weekly.fingerprint() == spelled.fingerprint()
    skip = datetime(2024, 3, 11, 9, tzinfo=NY)
    cancelled = meeting(recurrence=Recurrence(rrules=("FREQ=WEEKLY",), exdates=(skip,)))
    assert cancelled.cancelled == (skip,)
    assert cancelled.fingerprint() != weekly.fingerprint()


def test_overrides_are_keyed_by_original_start() -> None:
    slot = datetime(2024, 3, 11, 13, tzinfo=UTC)  # 09:00 EDT
    moved = meeting(start=slot + timedelta(hours=2), end=slot + timedelta(hours=3))
    tag = Tag(uuid.uuid4(), EntryKind.APPOINTMENT, uuid.uuid4())
    series = meeting(
        recurrence=Recurrence(rrules=("FREQ=WEEKLY",)),
        overrides=(Override(slot, moved.with_tag(tag)),),
    )
    found = series.override_for(datetime(2024, 3, 11, 9, tzinfo=NY))
    assert found is not None
    assert found.event.tag is None
    assert series.override_for(datetime(2024, 3, 18, 9, tzinfo=NY)) is None
    later = meeting(
        recurrence=Recurrence(rrules=("FREQ=WEEKLY",)),
        overrides=(Override(slot, replace(moved, title="Moved")),),
    )
    assert later.fingerprint() != series.fingerprint()
