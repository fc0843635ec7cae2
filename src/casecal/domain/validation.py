"""Rules for entry times, zones and recurrence, and the UTC span each entry occupies. Pure.

Time rule: a datetime with a UTC offset is that instant; a datetime without one is wall-clock
time in the entry's IANA time zone (a wall time that does not exist there, in a DST gap, is
rejected). All-day entries use dates with an exclusive end, as in iCalendar.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr

from casecal.domain.entries import OccurrenceChange
from casecal.domain.occurrences import occurrence_keys
from casecal.domain.recurrence import BadRecurrence, time_key
from casecal.errors import ValidationFailed

MIN_YEAR = 1900
MAX_YEAR = 2200
MAX_SERIES_SCAN = 10_000
"""A finite series with more occurrences than this is treated as open-ended for range queries."""
ALLOWED_FREQ = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
"""The frequencies every supported calendar (Graph's patternedRecurrence included) can carry."""
_RULE_KEYS = frozenset(
    {
        "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
        "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Span:
    """The UTC interval an entry occupies; ``ends_at`` is None for a series without end."""

    starts_at: datetime
    ends_at: datetime | None


def time_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called ``name``, or a 422 naming the field."""
    if not name or name != name.strip() or ".." in name or name.startswith("/"):
        raise ValidationFailed(f"unknown time zone {name!r}", field=field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed(
            f"unknown time zone {name!r}: use an IANA name such as 'America/New_York'",
            field=field,
        ) from None


def _check_year(year: int, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(f"year {year} is outside {MIN_YEAR}..{MAX_YEAR}", field=field)


def to_utc(value: datetime, zone: ZoneInfo, field: str) -> datetime:
    """Apply the time rule (see module docstring) and return the instant in UTC, to the second
    (calendars keep no fractions of a second)."""
    _check_year(value.year, field)
    value = value.replace(microsecond=0)
    if value.tzinfo is None or value.utcoffset() is None:
        local = value.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            raise ValidationFailed(
                f"{value.isoformat()} does not exist in {zone.key} (a daylight-saving gap)",
                field=field,
            )
        value = local
    return value.astimezone(UTC)


def check_date(value: date, field: str) -> date:
    _check_year(value.year, field)
    return value


def check_order(start: datetime, end: datetime, *, start_field: str, end_field: str) -> None:
    if end < start:
        raise ValidationFailed(
            f"{end_field} ({end.isoformat()}) is before {start_field} ({start.isoformat()})",
            field=end_field,
        )


def all_day_dates(start_date: date, end_date: date | None) -> tuple[date, date]:
    """Validate all-day dates; the end is exclusive and defaults to the next day."""
    check_date(start_date, "start_date")
    if end_date is None:
        return start_date, start_date + timedelta(days=1)
    check_date(end_date, "end_date")
    if end_date <= start_date:
        raise ValidationFailed(
            f"end_date ({end_date}) must be after start_date ({start_date}): the end date is "
            f"exclusive, so a one-day entry ends on {start_date + timedelta(days=1)}",
            field="end_date",
        )
    return start_date, end_date


def normalize_rrule(rule: str) -> str:
    """Check the shape of one RRULE and return it without the ``RRULE:`` prefix, upper-case."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or any(c in text for c in "\r\n") or "DTSTART" in text.upper():
        raise ValidationFailed(
            "rrule must be one RRULE line without DTSTART (the entry's start is the series start)",
            field="rrule",
        )
    parts: dict[str, str] = {}
    for part in text.upper().split(";"):
        key, sep, value = part.partition("=")
        if not sep or key not in _RULE_KEYS or not value or key in parts:
            raise ValidationFailed(f"rrule part {part!r} is not valid", field="rrule")
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise ValidationFailed(
            f"rrule FREQ must be one of {', '.join(sorted(ALLOWED_FREQ))}", field="rrule"
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationFailed("rrule may not have both COUNT and UNTIL", field="rrule")
    return text.upper()


def _parse_rule(rule: str, dtstart: datetime) -> rrule:
    try:
        parsed = rrulestr(rule, dtstart=dtstart)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(f"rrule does not parse: {exc}", field="rrule") from None
    if not isinstance(parsed, rrule):
        raise ValidationFailed("rrule must be a single RRULE", field="rrule")
    return parsed


def parse_exdates(values: list[str], *, all_day: bool, zone: ZoneInfo) -> list[str]:
    """Excluded occurrences: ISO dates for an all-day series, else datetimes (time rule);
    returned as ISO dates or UTC ISO datetimes."""
    out: list[str] = []
    for i, raw in enumerate(values):
        field = f"exdates.{i}"
        try:
            if all_day:
                out.append(check_date(date.fromisoformat(raw), field).isoformat())
            else:
                out.append(to_utc(datetime.fromisoformat(raw), zone, field).isoformat())
        except ValueError:
            kind = "an ISO date" if all_day else "an ISO datetime"
            raise ValidationFailed(f"exdate {raw!r} is not {kind}", field=field) from None
    return sorted(set(out))


def _series_last_start(rule: str, dtstart: datetime, exdates: list[datetime]) -> datetime | None:
    """The start of the last occurrence, or None when the series has no (reachable) end."""
    parsed = _parse_rule(rule, dtstart)
    series = rruleset()
    series.rrule(parsed)
    for ex in exdates:
        series.exdate(ex)
    bounded = "COUNT=" in rule or "UNTIL=" in rule
    try:
        head = list(itertools.islice(iter(series), 1 if not bounded else MAX_SERIES_SCAN + 1))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(f"rrule cannot be expanded: {exc}", field="rrule") from None
    if not head:
        raise ValidationFailed("rrule produces no occurrences", field="rrule")
    if not bounded or len(head) > MAX_SERIES_SCAN:
        return None
    last: datetime = head[-1]
    return last


def timed_span(
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    rule: str | None = None,
    exdates: tuple[str, ...] = (),
) -> Span:
    """Span of a timed entry; start/end are aware. A series ends where its last occurrence ends."""
    if rule is None:
        return Span(start, end)
    local_start = start.astimezone(zone)
    excluded = [datetime.fromisoformat(x).astimezone(zone) for x in exdates]
    last = _series_last_start(rule, local_start, excluded)
    if last is None:
        return Span(start, None)
    # dateutil drops microseconds and the fold (which of a repeated hour's two readings).
    last = last.replace(microsecond=local_start.microsecond, fold=local_start.fold)
    # Add the duration in UTC: aware arithmetic in a ZoneInfo zone is wall-clock arithmetic,
    # which is an hour off when the occurrence crosses a DST change.
    last_start = max(last.astimezone(UTC), start)
    return Span(start, last_start + (end - start))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def all_day_span(
    start_date: date,
    end_date: date,
    zone: ZoneInfo,
    rule: str | None = None,
    exdates: tuple[str, ...] = (),
) -> Span:
    """Span of an all-day entry: local midnights of its dates in ``zone``."""
    if rule is None:
        return Span(_midnight(start_date, zone), _midnight(end_date, zone))
    dtstart = datetime.combine(start_date, time())
    excluded = [datetime.combine(date.fromisoformat(x), time()) for x in exdates]
    last = _series_last_start(rule, dtstart, excluded)
    if last is None:
        return Span(_midnight(start_date, zone), None)
    last_end = last.date() + (end_date - start_date)
    return Span(_midnight(start_date, zone), _midnight(last_end, zone))


def day_span(day: date, zone: ZoneInfo) -> Span:
    """One whole day in ``zone`` (a step reminder)."""
    return Span(_midnight(day, zone), _midnight(day + timedelta(days=1), zone))


def duration_span(start: datetime, minutes: int) -> Span:
    """A court date or interview: start plus its duration."""
    return Span(start, start + timedelta(minutes=minutes))


def parse_overrides(
    values: list[dict[str, str]],
    *,
    all_day: bool,
    zone: ZoneInfo,
    rule: str | None,
    first: date | datetime,
    exdates: list[str],
    lenient: bool = False,
) -> list[OccurrenceChange]:
    """Occurrences changed on their own: each names an occurrence of the series (its
    ``original_start``, as an exdate would) and gives that occurrence its own title, times,
    place and notes. Times come back in ``zone`` (datetimes) or as dates (all-day). With
    ``lenient`` (overrides kept from before a change of the series), one whose occurrence the
    series no longer has is dropped instead of refused."""
    if values and rule is None:
        raise ValidationFailed("overrides need an rrule", field="overrides")
    if not values or rule is None:
        return []
    cancelled = set(exdates)
    originals = [
        _override_time(raw["original_start"], all_day, zone, f"overrides.{i}.original_start")
        for i, raw in enumerate(values)
    ]
    try:
        slots = occurrence_keys(rule, first, zone.key, originals)
    except (ValueError, TypeError, OverflowError, BadRecurrence):
        slots = set()
    out: dict[str, OccurrenceChange] = {}
    for i, raw in enumerate(values):
        field = f"overrides.{i}"
        original = originals[i]
        start = _override_time(raw["start"], all_day, zone, f"{field}.start")
        end = _override_time(raw["end"], all_day, zone, f"{field}.end")
        if time_key(end) < time_key(start) or (all_day and end == start):
            raise ValidationFailed("an occurrence ends after it starts", field=f"{field}.end")
        if time_key(original) not in slots:
            if lenient:
                continue  # the series moved on under it: the override goes with the old slot
            raise ValidationFailed(
                "original_start is not an occurrence of the series", field=f"{field}.original_start"
            )
        key = (
            original.astimezone(UTC).isoformat()
            if isinstance(original, datetime)
            else original.isoformat()
        )
        if key in cancelled:
            if lenient:
                continue  # cancelled since: the cancellation wins
            raise ValidationFailed(
                "that occurrence is cancelled (in exdates)", field=f"{field}.original_start"
            )
        if key in out:
            raise ValidationFailed("one override per occurrence", field=f"{field}.original_start")
        out[key] = OccurrenceChange(
            original_start=original, title=raw["title"], start=start, end=end,
            location=raw.get("location", ""), notes=raw.get("notes", ""),
        )  # fmt: skip
    return [out[k] for k in sorted(out)]


def _override_time(raw: str, all_day: bool, zone: ZoneInfo, field: str) -> date | datetime:
    try:
        if all_day:
            return check_date(date.fromisoformat(raw), field)
        return to_utc(datetime.fromisoformat(raw), zone, field).astimezone(zone)
    except ValueError:
        kind = "an ISO date" if all_day else "an ISO datetime"
        raise ValidationFailed(f"{raw!r} is not {kind}", field=field) from None
