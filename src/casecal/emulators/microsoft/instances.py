"""Series expansion with exceptions and cancellations applied: the instances a calendar view
shows, and instance ids (master id + original start) resolved back to their slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from casecal.emulators.microsoft import recurrence as rec
from casecal.emulators.microsoft.state import StoredEvent
from casecal.emulators.microsoft.tz import resolve_zone


@dataclass(frozen=True)
class Instance:
    """What a calendar view lists: a single event, an occurrence or an exception."""

    master: StoredEvent | None
    """The series master, for occurrences and exceptions."""
    key: datetime | date | None
    """The original start of the slot, for occurrences and exceptions."""
    event: StoredEvent
    """Where the data lives: the event itself, the master (occurrence) or the exception."""
    start: datetime | date
    end: datetime | date

    @property
    def kind(self) -> str:
        if self.master is None:
            return "seriesMaster" if self.event.recurrence else "singleInstance"
        return "occurrence" if self.event is self.master else "exception"


def instant(value: datetime | date, zone: tzinfo) -> datetime:
    """A comparable instant: all-day dates are midnight in the viewer's zone."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), zone).astimezone(UTC)


def stamp(key: datetime | date) -> str:
    if isinstance(key, datetime):
        return key.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return key.strftime("%Y%m%d")


def parse_stamp(text: str) -> datetime | date | None:
    try:
        if "T" in text:
            return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _occurrence_keys(master: StoredEvent, until: datetime) -> list[datetime | date]:
    assert master.recurrence is not None
    zone_name = master.recurrence["range"].get("recurrenceTimeZone") or master.start_tz
    zone = resolve_zone(zone_name)
    if isinstance(master.start, datetime):
        local = master.start.astimezone(zone).replace(tzinfo=None)
    else:
        local = datetime.combine(master.start, time(0))
    return rec.expand(master.recurrence, local, zone, master.is_all_day, until)


def slot(master: StoredEvent, key: datetime | date) -> Instance | None:
    """The instance in one slot of a series, or None when the slot is not in the series."""
    if key in master.cancelled:
        return None
    if key in master.exceptions:
        exc = master.exceptions[key]
        return Instance(master, key, exc, exc.start, exc.end)
    until = instant(key, UTC) + timedelta(days=1)
    if key not in _occurrence_keys(master, until):
        return None
    duration = _duration(master)
    if isinstance(key, datetime):
        return Instance(master, key, master, key, key + duration)
    return Instance(master, key, master, key, key + duration)


def _duration(event: StoredEvent) -> timedelta:
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        return event.end - event.start
    assert not isinstance(event.start, datetime)
    assert not isinstance(event.end, datetime)
    return timedelta(days=(event.end - event.start).days)


def expand(master: StoredEvent, lo: datetime, hi: datetime, zone: tzinfo) -> list[Instance]:
    """Occurrences and exceptions of a series that overlap [lo, hi)."""
    duration = _duration(master)
    out: list[Instance] = []
    keys = _occurrence_keys(master, hi + timedelta(days=1))
    for key in keys:
        if key in master.cancelled:
            continue
        if key in master.exceptions:
            exc = master.exceptions[key]
            inst = Instance(master, key, exc, exc.start, exc.end)
        else:
            end = key + duration
            inst = Instance(master, key, master, key, end)
        if overlaps(inst, lo, hi, zone):
            out.append(inst)
    return out


def overlaps(inst: Instance, lo: datetime, hi: datetime, zone: tzinfo) -> bool:
    start, end = instant(inst.start, zone), instant(inst.end, zone)
    if start == end:
        return lo <= start < hi
    return start < hi and end > lo


def view_instances(event: StoredEvent, lo: datetime, hi: datetime, zone: tzinfo) -> list[Instance]:
    """What a calendarView shows for one stored event (expanded when it is a series)."""
    if event.recurrence:
        return expand(event, lo, hi, zone)
    single = Instance(None, None, event, event.start, event.end)
    return [single] if overlaps(single, lo, hi, zone) else []
