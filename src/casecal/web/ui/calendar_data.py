"""One user's entries of all four kinds in a time range (read by
``services.calendar_view``), as ``EntryView`` values in the viewer's time zone: a series
expanded into its occurrences, case entries with their case and place."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import overrides
from casecal.domain.occurrences import Shown, shown_occurrences
from casecal.domain.series_window import skip_ahead
from casecal.services.access import Actor
from casecal.services.calendar_view import CaseEntry, calendar_rows
from casecal.store.tables import Appointment, CourtDate, EntryKind, StepReminder
from casecal.web.ui.views import EntryView


def viewer_zone(name: str) -> ZoneInfo:
    """The signed-in viewer's zone (``SignedIn.user.time_zone``); UTC if it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _from_near(first: Shown, rule: str, lo: datetime) -> Shown:
    """The series as if it began at its last occurrence well before ``lo`` (when its rule
    allows, ``domain.series_window``): expanded around the window, not from its first start."""
    reach = (lo - timedelta(days=8)).date()  # a changed occurrence may sit a week off its slot
    delta = skip_ahead(first.start, rule, reach)
    if not delta:
        return first
    start, end = first.start + delta, first.end + delta
    return Shown(first.original_start, first.title, start, end, first.location)


def _appointment_views(
    row: Appointment, zone: ZoneInfo, lo: datetime, hi: datetime
) -> list[EntryView]:
    """A single appointment, or each occurrence of a series in [lo, hi) as it is now
    (cancelled ones left out, changed ones with their own title, time and place)."""
    imported = row.origin == "remote"
    if row.all_day and row.start_date is not None:
        first: Shown = Shown(
            row.start_date,
            row.title,
            row.start_date,
            row.end_date or row.start_date + timedelta(days=1),
            row.location,
        )
    else:
        start = (row.start_at or row.starts_at).astimezone(ZoneInfo(row.time_zone))
        end = (row.end_at or start).astimezone(start.tzinfo)
        first = Shown(start, row.title, start, end, row.location)
    shown = [first]
    if row.rrule:
        changes = [overrides.from_stored(x) for x in row.overrides]
        cancelled = [overrides.parse_time(x) for x in row.exdates]
        series = _from_near(first, row.rrule, lo)
        shown = shown_occurrences(series, row.rrule, row.time_zone, cancelled, changes, lo, hi)
    views = []
    for item in shown:
        detail = item.location + (" · repeats" if row.rrule else "")
        if isinstance(item.start, datetime) and isinstance(item.end, datetime):
            start, end = item.start.astimezone(zone), item.end.astimezone(zone)
            views.append(EntryView(row.id, EntryKind.APPOINTMENT, item.title, start.date(),
                                   start, end, detail.strip(" ·"), imported))  # fmt: skip
        else:
            day = item.start if not isinstance(item.start, datetime) else item.start.date()
            after = item.end if not isinstance(item.end, datetime) else item.end.date()
            last = after - timedelta(days=1) if after > day else day
            views.append(EntryView(row.id, EntryKind.APPOINTMENT, item.title, day, None, None,
                                   detail.strip(" ·"), imported, last))  # fmt: skip
    return views


def _case_view(row: CaseEntry, number: str, zone: ZoneInfo) -> EntryView:
    if isinstance(row, StepReminder):
        day = row.reminder_date or row.due_date
        detail = f"Case {number} · due {row.due_date:%a %-d %b %Y}"
        return EntryView(row.id, EntryKind.STEP_REMINDER, row.step_name, day, None, None, detail)
    start = row.start_at.astimezone(zone)
    end = start + timedelta(minutes=row.duration_minutes)
    if isinstance(row, CourtDate):
        place = row.court_name or row.court_address
        return EntryView(row.id, EntryKind.COURT_DATE, row.hearing_type, start.date(), start, end,
                         f"Case {number}" + (f" · {place}" if place else ""))  # fmt: skip
    place = row.office_name or row.office_address
    return EntryView(row.id, EntryKind.INTERVIEW, row.interview_type, start.date(), start, end,
                     f"Case {number}" + (f" · {place}" if place else ""))  # fmt: skip


async def entries_between(
    session: AsyncSession, actor: Actor, zone: ZoneInfo, first_day: date, days: int
) -> list[EntryView]:
    """The actor's entries overlapping ``days`` days from ``first_day`` (days in ``zone``)."""
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(first_day + timedelta(days=days), time(), zone)
    rows = await calendar_rows(session, actor, start, end)
    views: list[EntryView] = []
    for row in rows.appointments:
        views += _appointment_views(row, zone, start, end)
    views += [_case_view(entry, number, zone) for entry, number in rows.case_entries]
    return views
