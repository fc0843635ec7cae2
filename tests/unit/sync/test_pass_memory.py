"""What a pass holds while a long listing goes by: the series masters only (the ids their
occurrences may ask for), never every event of the calendar, and no provider JSON."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from casecal.domain.event import CanonicalEvent
from casecal.domain.recurrence import Recurrence
from casecal.providers import base as pb
from casecal.sync.pass_context import Pass

NY = ZoneInfo("America/New_York")


def event(*, weekly: bool = False) -> CanonicalEvent:
    return CanonicalEvent(
        title="Intake",
        start=datetime(2026, 3, 4, 9, tzinfo=NY),
        end=datetime(2026, 3, 4, 10, tzinfo=NY),
        tz="America/New_York",
        recurrence=Recurrence(rrules=("FREQ=WEEKLY;COUNT=5",)) if weekly else None,
    )


def a_pass() -> Pass:
    return Pass(None, "http://testserver", uuid.uuid4(), uuid.uuid4())  # type: ignore[arg-type]


def test_a_single_event_is_not_kept_as_a_master() -> None:
    p = a_pass()
    p.keep_master(pb.RemoteEvent(id="single", etag="1", event=event()))
    assert p.masters == {}


def test_a_series_and_a_deleted_event_are_kept_as_masters() -> None:
    p = a_pass()
    series = pb.RemoteEvent(id="series", etag="1", event=event(weekly=True))
    gone = pb.RemoteEvent(id="gone", etag="2", event=None)
    p.keep_master(series)
    p.keep_master(gone)
    assert p.masters == {"series": series, "gone": gone}


def test_a_remote_event_holds_no_provider_json() -> None:
    assert "raw" not in {f.name for f in dataclasses.fields(pb.RemoteEvent)}
