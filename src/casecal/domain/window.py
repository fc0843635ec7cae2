"""The sync window of a new connection (MAPPINGS.md "Sync window") and tombstone retention.

Pure functions over aware datetimes; all-day values are dates, read as midnight in the
connection's zone. The window only bounds the initial backfill: later changes are followed
whatever their date.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

LOOKBACK: Final = timedelta(days=30)
""""Upcoming" backfill also takes entries that ended up to this long before today."""
TOMBSTONE_RETENTION: Final = timedelta(days=30)
"""How long a deleted entry's tombstone and its link are kept (docs/design/providers.md)."""


class Backfill(enum.StrEnum):
    """What a connection takes over when it is made."""

    FROM_NOW_ON = "from_now_on"
    """Only entries added or updated after activation."""
    UPCOMING = "upcoming"
    """Also every existing entry that ends after today minus 30 days (the default)."""


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """The backfill of one connection: ``start`` to ``end`` bounds the initial remote import
    (and, for "upcoming", the host entries taken over)."""

    backfill: Backfill
    activated_at: datetime
    start: datetime
    end: datetime
    tz: tzinfo

    def includes_host_entry(self, ends: datetime | date | None, modified: datetime) -> bool:
        """Whether a host entry is pushed when the connection starts. ``ends`` is ``None`` for
        a series without end; ``modified`` is the entry's last change."""
        if _aware(modified, "modified") >= self.activated_at:
            # Added or updated after activation: followed under either backfill.
            return True
        if self.backfill is Backfill.FROM_NOW_ON:
            return False
        return ends is None or self._at(ends) > self.start

    def includes_remote_event(self, starts: datetime | date, ends: datetime | date | None) -> bool:
        """Whether a remote event is imported by the initial listing: it overlaps
        [start, end). A series without end (``ends`` ``None``) overlaps if it starts in time."""
        if self._at(starts) >= self.end:
            return False
        return ends is None or self._at(ends) > self.start

    def _at(self, value: datetime | date) -> datetime:
        return as_datetime(value, self.tz)


def sync_window(backfill: Backfill, activated_at: datetime, tz: tzinfo) -> SyncWindow:
    """The window of a connection activated at ``activated_at``; "today" is the activation day
    in ``tz`` (the case manager's zone)."""
    activated_at = _aware(activated_at, "activated_at")
    if backfill is Backfill.FROM_NOW_ON:
        start = activated_at
    else:
        today = activated_at.astimezone(tz).date()
        start = as_datetime(today - LOOKBACK, tz)
    return SyncWindow(backfill, activated_at, start, one_year_after(activated_at), tz)


def as_datetime(value: datetime | date, tz: tzinfo) -> datetime:
    """An aware datetime for a window comparison: a date is midnight of that day in ``tz``."""
    if isinstance(value, datetime):
        return _aware(value, "value")
    return datetime.combine(value, time(), tzinfo=tz)


def one_year_after(moment: datetime) -> datetime:
    """The same wall time a year later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def tombstone_expired(
    tombstoned_at: datetime, now: datetime, retention: timedelta = TOMBSTONE_RETENTION
) -> bool:
    """True once a tombstone (and its link) may be purged."""
    return _aware(now, "now") - _aware(tombstoned_at, "tombstoned_at") >= retention


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value
