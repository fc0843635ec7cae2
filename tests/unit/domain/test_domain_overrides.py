"""Occurrences changed on their own: a host override goes out as the provider's changed
instance and comes back as the same override (Google and Graph, across DST changes); merging
keeps one per occurrence; a cancellation wins over an override of the same occurrence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain import overrides
from casecal.domain.entries import Appointment, OccurrenceChange
from casecal.domain.event import CanonicalEvent
from casecal.domain.mapping import appointment_fields, event_for_entry
from casecal.providers.google.json import from_google, to_google, to_google_override
from casecal.providers.msgraph.json import (
    format_original_start,
    from_graph,
    to_graph,
    to_graph_override,
)

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "UTC")
BASE = "https://casecal.test"
words = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1, max_size=30)
words = words.map(str.strip).filter(bool)


@st.composite
def series_with_change(draw: st.DrawFn) -> Appointment:
    """A weekly series of six starting within a few weeks of a DST change (March 2026), one of
    its occurrences moved by up to two days and retitled."""
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first = datetime(2026, 3, 1, 9, 0, tzinfo=zone) + timedelta(
        days=draw(st.integers(0, 40)), minutes=15 * draw(st.integers(0, 40))
    )
    nth = draw(st.integers(1, 5))
    original = first + timedelta(weeks=nth)  # same wall-clock time
    start = original.astimezone(UTC) + timedelta(minutes=15 * draw(st.integers(-192, 192)))
    start = start.astimezone(zone)
    change = OccurrenceChange(
        original_start=original, title=draw(words), start=start,
        end=(start.astimezone(UTC) + timedelta(minutes=30)).astimezone(zone),
        location=draw(st.one_of(st.just(""), words)), notes=draw(st.one_of(st.just(""), words)),
    )  # fmt: skip
    return Appointment(
        id=uuid.uuid4(), owner_id=uuid.uuid4(), title="Series", time_zone=zone.key,
        start_at=first, end_at=(first.astimezone(UTC) + timedelta(hours=1)).astimezone(zone),
        rrule="FREQ=WEEKLY;COUNT=6", overrides=(change,),
    )  # fmt: skip


def _event(entry: Appointment) -> CanonicalEvent:
    return event_for_entry(entry, case=None, connection_id=uuid.uuid4(), base_url=BASE)


@given(series_with_change())
def test_a_host_override_comes_back_from_google_unchanged(entry: Appointment) -> None:
    event = _event(entry)
    [override] = event.overrides
    master = {**to_google(event), "id": "series1", "status": "confirmed"}
    instance = to_google_override(override, master_id="series1", series_tz=event.tz)
    instance |= {"id": "series1_x", "status": "confirmed"}
    back = from_google(master, default_tz="UTC", instances=(instance,))
    assert appointment_fields(back, full_details=True).overrides == entry.overrides


@given(series_with_change())
def test_a_host_override_comes_back_from_graph_unchanged(entry: Appointment) -> None:
    event = _event(entry)
    [override] = event.overrides
    exception = to_graph_override(override) | {
        "type": "exception",
        "originalStart": format_original_start(override.original_start, event.tz),
    }
    back = from_graph(to_graph(event), tz_hint=event.tz, exceptions=(exception,))
    assert appointment_fields(back, full_details=True).overrides == entry.overrides


def test_a_cancelled_occurrence_is_not_also_sent_as_changed() -> None:
    zone = ZoneInfo("America/New_York")
    first = datetime(2026, 3, 2, 9, tzinfo=zone)
    second = first + timedelta(weeks=1)
    change = OccurrenceChange(second, "Moved", second + timedelta(hours=2),
                              second + timedelta(hours=3))  # fmt: skip
    entry = Appointment(
        id=uuid.uuid4(), owner_id=uuid.uuid4(), title="Series", time_zone=zone.key,
        start_at=first, end_at=first + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=3",
        overrides=(change,),
    )  # fmt: skip
    assert [o.event.title for o in _event(entry).overrides] == ["Moved"]
    cancelled = Appointment(**{**entry.__dict__, "exdates": (second.astimezone(UTC),)})
    assert _event(cancelled).overrides == ()


slots = st.integers(0, 9).map(lambda n: datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(weeks=n))


@given(st.lists(st.tuples(slots, words), max_size=12))
def test_merging_keeps_one_override_per_occurrence_the_latest(
    changes: list[tuple[datetime, str]],
) -> None:
    held: list[overrides.Stored] = []
    latest: dict[datetime, str] = {}
    for slot, title in changes:
        # The same occurrence, written with another offset: still the same occurrence.
        local = slot.astimezone(ZoneInfo("America/New_York"))
        change = OccurrenceChange(local, title, local, local + timedelta(hours=1))
        held = overrides.merge(held, overrides.to_stored(change))
        latest[slot] = title
    assert [overrides.from_stored(x).title for x in held] == [latest[k] for k in sorted(latest)]
    assert [overrides.from_stored(x).original_start for x in held] == sorted(latest)
