"""Recurrence: RRULE normalisation, and RRULE <-> Microsoft Graph ``patternedRecurrence``.

Rules that Graph cannot express raise :class:`UnrepresentableRecurrence`; no rule is ever
changed in meaning on the way. Normalisation only rewrites a rule into an equivalent form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from dateutil.rrule import rrulestr

from casecal.errors import ValidationFailed

EventTime = date | datetime
"""A ``datetime`` (aware) for timed events, a ``date`` for all-day events."""

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
GRAPH_INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_INDEX_OF = {name: n for n, name in GRAPH_INDEX.items()}
_ORDER = (
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
)  # fmt: skip
_FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_BYDAY_RE = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_NON_LEAP_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class BadRecurrence(ValidationFailed):
    """A recurrence rule that is not valid RFC 5545."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="recurrence")


class UnrepresentableRecurrence(ValidationFailed):
    """A valid recurrence that Microsoft Graph's ``patternedRecurrence`` cannot express."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(
            f"Microsoft Graph cannot express the recurrence {rule!r}: {reason}", field="recurrence"
        )
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class Recurrence:
    """RRULE/EXRULE bodies (without the ``RRULE:`` prefix), RDATEs and EXDATEs of a series.

    EXDATEs are the cancelled occurrences, whichever way a provider reported them.

    A recurrence made by :meth:`normalised` remembers the start it is canonical for (in a
    slot outside the fields), so normalising it again for that start returns it as it is.
    """

    __slots__ = ("__dict__", "__weakref__", "_normal_for")

    rrules: tuple[str, ...] = ()
    exrules: tuple[str, ...] = ()
    rdates: tuple[EventTime, ...] = ()
    exdates: tuple[EventTime, ...] = ()

    def normalised(self, start: EventTime) -> Recurrence:
        """An equivalent recurrence in canonical form for a series starting at ``start``."""
        key = _start_key(start)
        if getattr(self, "_normal_for", None) == key:
            return self
        result = Recurrence(
            rrules=tuple(sorted({normalise_rrule(r, start) for r in self.rrules})),
            exrules=tuple(sorted({normalise_rrule(r, start) for r in self.exrules})),
            rdates=_normalise_times(self.rdates, start),
            exdates=_normalise_times(self.exdates, start),
        )
        object.__setattr__(result, "_normal_for", key)
        return result

    def __getstate__(self) -> dict[str, Any]:
        """The fields only (copies and pickles forget which start they were normalised for)."""
        return self.__dict__


StartKey = tuple[type, EventTime, object, int]


def _start_key(start: EventTime) -> StartKey:
    """What normalisation reads of a series' start: its type, wall time, zone object and fold
    (aware datetimes with the same zone object compare by wall time, so the zone and the fold
    are part of the key)."""
    if isinstance(start, datetime):
        return (datetime, start, start.tzinfo, start.fold)
    return (type(start), start, None, 0)


def time_key(value: EventTime) -> str:
    """A sortable, zone-independent text key: ISO date, or the UTC instant."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _normalise_times(values: tuple[EventTime, ...], start: EventTime) -> tuple[EventTime, ...]:
    out: dict[str, EventTime] = {}
    for value in values:
        fixed = align_time(value, start)
        out.setdefault(time_key(fixed), fixed)
    return tuple(out[k] for k in sorted(out))


def align_time(value: EventTime, start: EventTime) -> EventTime:
    """``value`` in the value type and zone of ``start`` (a date on a timed series means the
    occurrence at the series' start time on that day)."""
    if isinstance(start, datetime):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return value.replace(tzinfo=start.tzinfo)
            return value.astimezone(start.tzinfo)
        return datetime.combine(value, start.timetz()).replace(fold=0)
    if isinstance(value, datetime):
        raise BadRecurrence(f"date-time {value.isoformat()} on an all-day series")
    return value


def parse_rrule(text: str) -> dict[str, str]:
    """The parts of an RRULE body (``RRULE:`` prefix allowed), keys upper-cased. A new dict
    each time (callers change theirs); the parsing of a text is done once."""
    return dict(_parsed_rrule(text))


@lru_cache(maxsize=1024)
def _parsed_rrule(text: str) -> tuple[tuple[str, str], ...]:
    body = text.strip()
    if body.upper().startswith(("RRULE:", "EXRULE:")):
        body = body.split(":", 1)[1]
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or key not in _ORDER or key in parts:
            raise BadRecurrence(f"bad recurrence rule {text!r} (at {item!r})")
        parts[key] = value.strip().upper()
    if parts.get("FREQ") not in _FREQS:
        raise BadRecurrence(f"recurrence rule {text!r} has no valid FREQ")
    if "COUNT" in parts and "UNTIL" in parts:
        raise BadRecurrence(f"recurrence rule {text!r} has both COUNT and UNTIL")
    for key in ("COUNT", "INTERVAL"):
        if key in parts and (not parts[key].isdigit() or int(parts[key]) < 1):
            raise BadRecurrence(f"recurrence rule {text!r} has a bad {key}")
    return tuple(parts.items())


def format_rrule(parts: dict[str, str]) -> str:
    """An RRULE body from its parts, in a fixed key order."""
    return ";".join(f"{key}={parts[key]}" for key in _ORDER if key in parts)


def _byday(value: str) -> list[tuple[int | None, str]]:
    out = []
    for item in value.split(","):
        match = _BYDAY_RE.fullmatch(item.strip())
        if match is None:
            raise BadRecurrence(f"bad BYDAY value {item!r}")
        out.append((int(match[1]) if match[1] else None, match[2]))
    return out


def _format_byday(days: list[tuple[int | None, str]]) -> str:
    ordered = sorted(set(days), key=lambda d: (WEEKDAYS.index(d[1]), d[0] or 0))
    return ",".join(f"{n if n is not None else ''}{day}" for n, day in ordered)


def parse_until(value: str, start: EventTime) -> EventTime:
    """An UNTIL value in the type of ``start`` (UTC instants for timed series)."""
    try:
        if "T" not in value:
            day = datetime.strptime(value, "%Y%m%d").date()
            if isinstance(start, datetime):
                return _utc(datetime.combine(day, time(23, 59, 59), start.tzinfo))
            return day
        moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError as exc:
        raise BadRecurrence(f"bad UNTIL value {value!r}") from exc
    if value.endswith("Z"):
        aware = moment.replace(tzinfo=UTC)
    else:  # floating: read in the series' zone
        tzinfo = start.tzinfo if isinstance(start, datetime) else UTC
        aware = moment.replace(tzinfo=tzinfo)
    if isinstance(start, datetime):
        return _utc(aware)
    return _utc(aware).date()


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; at the ends of the calendar (UNTIL=99991231 west of Greenwich) the
    last or first representable instant instead of an OverflowError."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.max if moment.year > 1 else datetime.min
        return edge.replace(tzinfo=UTC)


def _occurrence_on(day: date, start: datetime) -> datetime:
    return datetime.combine(day, start.timetz()).replace(fold=0)


def until_cutoff(until: EventTime, start: EventTime) -> date:
    """The last local date whose occurrence (at the series' start time) is not after UNTIL."""
    if not isinstance(start, datetime) or not isinstance(until, datetime):
        return until if not isinstance(until, datetime) else until.date()
    day = until.astimezone(start.tzinfo).date()
    if _occurrence_on(day, start) > until:
        day -= timedelta(days=1)
    return day


def until_value(cutoff: date, start: EventTime) -> str:
    """The UNTIL text for a series that ends with the occurrence on ``cutoff``."""
    if not isinstance(start, datetime):
        return cutoff.strftime("%Y%m%d")
    return _occurrence_on(cutoff, start).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def same_rule(
    rule: str | None, start: EventTime | None, other: str | None, other_start: EventTime | None
) -> bool:
    """Whether two series' rules mean the same, each read from its own start
    (``FREQ=WEEKLY;COUNT=3`` from a Sunday is ``FREQ=WEEKLY;COUNT=3;BYDAY=SU``)."""
    if not rule or not other or start is None or other_start is None:
        return False
    try:
        return normalise_rrule(rule, start) == normalise_rrule(other, other_start)
    except BadRecurrence:
        return rule == other


def normalise_rrule(text: str, start: EventTime) -> str:
    """An equivalent RRULE body in canonical form for a series starting at ``start``.

    Drops defaults (INTERVAL=1, WKST where it has no effect), fills the BY-part that a plain
    WEEKLY/MONTHLY/YEARLY rule takes from DTSTART, writes DAILY+BYDAY as WEEKLY, single-day
    BYSETPOS as an ordinal BYDAY, and UNTIL as the UTC start of the last occurrence. The
    answer for a (rule, start) is computed once: a series is normalised each time its event is
    built, from the wire and from the row.
    """
    return _normalised_rrule(text, _start_key(start))


@lru_cache(maxsize=4096)
def _normalised_rrule(text: str, at: StartKey) -> str:
    start: EventTime = at[1]
    parts = parse_rrule(text)
    freq = parts["FREQ"]
    if parts.get("INTERVAL") == "1":
        del parts["INTERVAL"]
    for key in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "BYHOUR"):
        if key in parts:
            parts[key] = ",".join(str(v) for v in sorted({int(v) for v in parts[key].split(",")}))
    for key in ("BYMINUTE", "BYSECOND"):
        if key in parts:
            parts[key] = ",".join(str(v) for v in sorted({int(v) for v in parts[key].split(",")}))
    days = _byday(parts["BYDAY"]) if "BYDAY" in parts else []
    by_keys = {k for k in parts if k.startswith("BY")}
    plain_days = bool(days) and all(n is None for n, _ in days)
    if freq == "DAILY" and "INTERVAL" not in parts and by_keys == {"BYDAY"} and plain_days:
        freq = parts["FREQ"] = "WEEKLY"
    if not by_keys:
        if freq == "WEEKLY":
            days = [(None, WEEKDAYS[start.weekday()])]
        elif freq == "MONTHLY":
            parts["BYMONTHDAY"] = str(start.day)
        elif freq == "YEARLY":
            parts["BYMONTH"], parts["BYMONTHDAY"] = str(start.month), str(start.day)
    setpos = parts.get("BYSETPOS", "")
    single_pos = bool(setpos) and "," not in setpos and by_keys <= {"BYDAY", "BYSETPOS", "BYMONTH"}
    if freq in ("MONTHLY", "YEARLY") and len(days) == 1 and plain_days and single_pos:
        days = [(int(setpos), days[0][1])]
        del parts["BYSETPOS"]
    if days:
        parts["BYDAY"] = _format_byday(days)
    keeps_wkst = (freq == "WEEKLY" and "INTERVAL" in parts) or "BYWEEKNO" in parts
    if parts.get("WKST") == "MO" or not keeps_wkst:
        parts.pop("WKST", None)
    if "UNTIL" in parts:
        until = parse_until(parts["UNTIL"], start)
        if not {"BYHOUR", "BYMINUTE", "BYSECOND"} & by_keys and freq in _DAY_FREQS:
            parts["UNTIL"] = until_value(until_cutoff(until, start), start)
        else:
            parts["UNTIL"] = time_key(until)
    return format_rrule(parts)


_DAY_FREQS = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})


def _naive(start: EventTime) -> datetime:
    if isinstance(start, datetime):
        return start.replace(tzinfo=None)
    return datetime.combine(start, time())


def starts_on_occurrence(rule: str, start: EventTime) -> bool:
    """Whether ``start`` is itself an occurrence of ``rule`` (RFC 5545 counts it regardless;
    Graph does not)."""
    parts = parse_rrule(rule)
    parts.pop("UNTIL", None)
    parts.pop("COUNT", None)
    first = next(iter(rrulestr(format_rrule(parts), dtstart=_naive(start))), None)
    return first == _naive(start)


def to_graph_recurrence(rec: Recurrence, start: EventTime, windows_zone: str) -> dict[str, Any]:
    """The Graph ``patternedRecurrence`` of a series (EXDATEs travel as deleted occurrences)."""
    label = "; ".join(rec.rrules) or "(no RRULE)"
    if len(rec.rrules) != 1:
        raise UnrepresentableRecurrence(label, "Graph holds exactly one rule per series")
    if rec.exrules:
        raise UnrepresentableRecurrence(label, "Graph has no EXRULE")
    if rec.rdates:
        raise UnrepresentableRecurrence(label, "Graph has no RDATE (extra dates)")
    rule = normalise_rrule(rec.rrules[0], start)
    pattern = _to_pattern(rule, start)
    if not starts_on_occurrence(rule, start):
        raise UnrepresentableRecurrence(
            rule, "the series start is not an occurrence of the rule, and Graph would drop it"
        )
    parts = parse_rrule(rule)
    start_day = start.date() if isinstance(start, datetime) else start
    rng: dict[str, Any] = {
        "type": "noEnd",
        "startDate": start_day.isoformat(),
        "recurrenceTimeZone": windows_zone,
    }
    if "COUNT" in parts:
        rng.update(type="numbered", numberOfOccurrences=int(parts["COUNT"]))
    elif "UNTIL" in parts:
        cutoff = until_cutoff(parse_until(parts["UNTIL"], start), start)
        if cutoff < start_day:
            raise UnrepresentableRecurrence(rule, "UNTIL is before the series start")
        rng.update(type="endDate", endDate=cutoff.isoformat())
    return {"pattern": pattern, "range": rng}


def _to_pattern(rule: str, start: EventTime) -> dict[str, Any]:
    parts = parse_rrule(rule)
    freq = parts.pop("FREQ")
    interval = int(parts.pop("INTERVAL", "1"))
    parts.pop("COUNT", None)
    parts.pop("UNTIL", None)
    wkst = parts.pop("WKST", "MO")
    days = _byday(parts.pop("BYDAY")) if "BYDAY" in parts else []
    ordinals = {n for n, _ in days}
    names = [GRAPH_DAYS[WEEKDAYS.index(d)] for _, d in days]
    base: dict[str, Any] = {"interval": interval}
    if freq == "DAILY" and not parts and not days:
        return {"type": "daily", **base}
    if freq == "WEEKLY" and not parts and days and ordinals == {None}:
        first = GRAPH_DAYS[WEEKDAYS.index(wkst)]
        return {"type": "weekly", **base, "daysOfWeek": names, "firstDayOfWeek": first}
    if freq in ("MONTHLY", "YEARLY"):
        month = parts.pop("BYMONTH", None) if freq == "YEARLY" else None
        if freq == "YEARLY" and (month is None or "," in month):
            raise UnrepresentableRecurrence(rule, "a yearly rule needs exactly one BYMONTH")
        prefix = "absolute" if "BYMONTHDAY" in parts else "relative"
        kind = f"{prefix}{'Monthly' if freq == 'MONTHLY' else 'Yearly'}"
        extra: dict[str, Any] = {"month": int(month)} if month else {}
        if set(parts) == {"BYMONTHDAY"} and not days:
            day = parts["BYMONTHDAY"]
            limit = 28 if month is None else _NON_LEAP_DAYS[int(month) - 1]
            if "," in day or not 1 <= int(day) <= limit:
                raise UnrepresentableRecurrence(
                    rule, "Graph moves day-of-month rules past a short month's end"
                )
            return {"type": kind, **base, **extra, "dayOfMonth": int(day)}
        index = _relative_index(parts, days, rule)
        return {"type": kind, **base, **extra, "daysOfWeek": names, "index": index}
    raise UnrepresentableRecurrence(rule, f"Graph has no pattern for this {freq.lower()} rule")


def _relative_index(parts: dict[str, str], days: list[tuple[int | None, str]], rule: str) -> str:
    if len(days) == 1 and days[0][0] is not None and not parts:
        position = days[0][0]
    elif days and {n for n, _ in days} == {None} and set(parts) == {"BYSETPOS"}:
        if "," in parts["BYSETPOS"]:
            raise UnrepresentableRecurrence(rule, "Graph takes a single BYSETPOS")
        position = int(parts["BYSETPOS"])
    else:
        raise UnrepresentableRecurrence(rule, "Graph has no pattern for this combination")
    if position not in GRAPH_INDEX:
        raise UnrepresentableRecurrence(rule, "Graph counts only first..fourth and last")
    return GRAPH_INDEX[position]


def from_graph_recurrence(data: dict[str, Any], start: EventTime) -> str:
    """The canonical RRULE body of a Graph ``patternedRecurrence`` for a series at ``start``."""
    pattern, rng = data.get("pattern") or {}, data.get("range") or {}
    kind = str(pattern.get("type", ""))
    parts: dict[str, str] = {"INTERVAL": str(pattern.get("interval") or 1)}
    days = [WEEKDAYS[GRAPH_DAYS.index(d.lower())] for d in pattern.get("daysOfWeek") or []]
    if kind == "daily":
        parts["FREQ"] = "DAILY"
    elif kind == "weekly":
        parts.update(FREQ="WEEKLY", BYDAY=",".join(days))
        first = str(pattern.get("firstDayOfWeek") or "sunday").lower()
        parts["WKST"] = WEEKDAYS[GRAPH_DAYS.index(first)]
    elif kind in ("absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"):
        parts["FREQ"] = "MONTHLY" if kind.endswith("Monthly") else "YEARLY"
        if kind.endswith("Yearly"):
            parts["BYMONTH"] = str(pattern["month"])
        if kind.startswith("absolute"):
            parts["BYMONTHDAY"] = str(pattern["dayOfMonth"])
        else:
            index = _INDEX_OF[str(pattern.get("index") or "first")]
            parts["BYDAY"] = ",".join(days)
            parts["BYSETPOS"] = str(index)
    else:
        raise BadRecurrence(f"unknown Graph recurrence pattern type {kind!r}")
    if rng.get("type") == "numbered":
        parts["COUNT"] = str(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate":
        parts["UNTIL"] = until_value(date.fromisoformat(str(rng["endDate"])), start)
    return normalise_rrule(format_rrule(parts), start)
