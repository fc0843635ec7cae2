"""How far a series CaseCal accepts may reach: at most 999 occurrences and 10 years from its
first start, and it must end (COUNT or UNTIL). Pure; the expansion is bounded by the limits.

The figures and the providers' own limits are in docs/design/recurrence-limits.md.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from casecal.domain.recurrence import BadRecurrence, format_rrule, parse_rrule, parse_until
from casecal.errors import ValidationFailed

MAX_SERIES_OCCURRENCES = 999
"""Outlook's own ceiling for a numbered series ("End after" 999); Google's is higher."""
MAX_SERIES_YEARS = 10
"""The last occurrence starts at most this many years after the first."""
_HOW = (
    f"a series may have at most {MAX_SERIES_OCCURRENCES} occurrences and end within "
    f"{MAX_SERIES_YEARS} years of its first start"
)


def series_horizon(first: date) -> date:
    """The last day an occurrence of a series starting on ``first`` may start."""
    year = first.year + MAX_SERIES_YEARS
    try:
        return first.replace(year=year)
    except ValueError:  # 29 February: the 28th of that later year
        return first.replace(year=year, day=28)


def check_series_limits(rule: str, first: date | datetime, zone: ZoneInfo) -> None:
    """Refuse (422 naming ``rrule``) a series that does not end, has more than
    :data:`MAX_SERIES_OCCURRENCES` occurrences, or reaches past :func:`series_horizon`.
    ``first`` is the series' first start (a date for all-day series). The check expands at
    most :data:`MAX_SERIES_YEARS` of the rule, whatever it says."""
    try:
        parts = parse_rrule(rule)
    except BadRecurrence as exc:
        raise ValidationFailed(str(exc), field="rrule") from None
    local_first = first.astimezone(zone) if isinstance(first, datetime) else first
    bare = {k: value for k, value in parts.items() if k not in ("COUNT", "UNTIL")}
    expansion = _expansion(format_rrule(bare), local_first)
    _refuse_dateless(parts, local_first)
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise ValidationFailed(f"the series never ends: add COUNT or UNTIL ({_HOW})", field="rrule")
    count = int(parts.pop("COUNT", "0"))
    if count > MAX_SERIES_OCCURRENCES:
        raise ValidationFailed(f"COUNT={count} is too many: {_HOW}", field="rrule")
    start_day = local_first.date() if isinstance(local_first, datetime) else local_first
    horizon = datetime.combine(series_horizon(start_day), time(23, 59, 59))
    bound = horizon
    if "UNTIL" in parts:
        until = _local(parse_until(parts.pop("UNTIL"), local_first), zone)
        if until > horizon:
            raise ValidationFailed(
                f"UNTIL is more than {MAX_SERIES_YEARS} years after the first start: {_HOW}",
                field="rrule",
            )
        bound = until
    for seen, _ in enumerate(expansion.replace(until=bound), start=1):
        if count and seen == count:
            return  # ends within the horizon
        if seen > MAX_SERIES_OCCURRENCES:
            raise ValidationFailed(
                f"the series has more than {MAX_SERIES_OCCURRENCES} occurrences: {_HOW}",
                field="rrule",
            )
    if count:
        raise ValidationFailed(
            f"COUNT={count} runs more than {MAX_SERIES_YEARS} years past the first start: {_HOW}",
            field="rrule",
        )


_DATE_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_FINER_THAN_YEARLY = frozenset({"MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"})


def _refuse_dateless(parts: dict[str, str], first: date | datetime) -> None:
    """Refuse a rule whose date filters match no day within the horizon, before expanding it.

    The expansion library checks its end (UNTIL, the horizon) only when a day matches, so a
    rule no day can satisfy (``FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30``) is scanned step by
    step up to year 9999: seconds of CPU for one request. The days a rule can fall on are
    those its date filters allow; the same filters under ``FREQ=YEARLY`` list them a year at a
    time, which bounds even a fruitless scan to about 8,000 steps. Rules with BYSETPOS are
    left to the expansion (the position picks among a period's days, not a year's)."""
    freq = parts["FREQ"]
    if freq not in _FINER_THAN_YEARLY or "BYSETPOS" in parts:
        return
    filters = {key: parts[key] for key in _DATE_FILTERS if key in parts}
    if not filters:
        return  # every day matches
    if freq == "MONTHLY" and "BYMONTH" not in filters:
        filters["BYMONTH"] = ",".join(str(m) for m in range(1, 13))  # numeric BYDAY per month
    start = first if isinstance(first, date) and not isinstance(first, datetime) else first.date()
    days = _expansion(format_rrule({"FREQ": "YEARLY", **filters}), start)
    horizon = datetime.combine(series_horizon(start), time(23, 59, 59))
    if next(iter(days.replace(dtstart=datetime.combine(start, time()), until=horizon)), None):
        return
    raise ValidationFailed(
        f"the rule falls on no date within {MAX_SERIES_YEARS} years of its first start "
        f"(its BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO or BYDAY never meet): {_HOW}",
        field="rrule",
    )


def _local(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    return datetime.combine(value, time()) + timedelta(hours=23, minutes=59, seconds=59)


def _expansion(rule: str, first: date | datetime) -> rrule:
    if isinstance(first, datetime):
        dtstart = first.replace(tzinfo=None)
    else:
        dtstart = datetime.combine(first, time())
    try:
        parsed = rrulestr(rule, dtstart=dtstart)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(f"rrule does not parse: {exc}", field="rrule") from None
    if not isinstance(parsed, rrule):
        raise ValidationFailed("rrule must be a single RRULE", field="rrule")
    return parsed


__all__ = [
    "MAX_SERIES_OCCURRENCES",
    "MAX_SERIES_YEARS",
    "check_series_limits",
    "series_horizon",
]
