"""Recurring series: validation of ``recurrence`` lines and expansion of a master into
instances with ids ``<master>_<YYYYMMDDTHHMMSSZ>`` (``<master>_<YYYYMMDD>`` for all-day)."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr

from .clock import format_dt, utc_stamp
from .errors import invalid
from .eventtime import duration, to_instant, zone

PREFIXES = ("RRULE:", "EXRULE:", "RDATE", "EXDATE")
MAX_INSTANCES = 2500
"""Expansion stops after this many occurrences of one series (documented limit)."""
HORIZON = timedelta(days=2 * 366)
"""Without ``timeMax``, series expand up to this far past the current time (or past their
first occurrence, if that lies in the future)."""


def validate(lines: Any, start: dict[str, Any]) -> list[str]:
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise invalid("Invalid recurrence rule.")
    for line in lines:
        upper = line.upper()
        if upper.startswith(("DTSTART", "DTEND")):
            raise invalid("Invalid recurrence rule: DTSTART/DTEND are not allowed.")
        if not upper.startswith(PREFIXES):
            raise invalid(f"Invalid recurrence rule: {line}")
    if lines:
        if not any(x.upper().startswith(("RRULE:", "RDATE")) for x in lines):
            raise invalid("Invalid recurrence rule: no RRULE or RDATE.")
        try:
            rules = build(lines, start)
            rules.after(datetime(1970, 1, 1, tzinfo=UTC) if "dateTime" in start else _naive0())
        except (ValueError, TypeError) as exc:
            raise invalid(f"Invalid recurrence rule: {exc}") from None
    return list(lines)


def _naive0() -> datetime:
    return datetime(1970, 1, 1)


def dtstart(start: dict[str, Any]) -> datetime:
    """The series' first start: aware in the event's zone, naive for all-day series."""
    if "date" in start:
        return datetime.combine(date.fromisoformat(start["date"]), datetime.min.time())
    dt = datetime.fromisoformat(start["dateTime"])
    tz = zone(start.get("timeZone", ""))
    return dt.astimezone(tz) if tz else dt


def build(lines: list[str], start: dict[str, Any]) -> rruleset:
    result = rrulestr(
        "\n".join(lines),
        dtstart=dtstart(start),
        forceset=True,
        tzids=lambda name: ZoneInfo(name),
    )
    assert isinstance(result, rruleset)
    return result


def instance_id(master_id: str, original: datetime, all_day: bool) -> str:
    suffix = original.strftime("%Y%m%d") if all_day else utc_stamp(original)
    return f"{master_id}_{suffix}"


def occurrences(
    master: dict[str, Any],
    window_start: datetime | None,
    window_end: datetime | None,
    now: datetime,
) -> list[datetime]:
    """Original start times of the master's occurrences overlapping the window."""
    start = master["start"]
    all_day = "date" in start
    length = duration(start, master["end"])
    rules = build(master["recurrence"], start)
    first = to_instant(start, ZoneInfo("UTC"))
    end_bound = window_end or (max(now, first) + HORIZON)
    found: list[datetime] = []
    for occ in rules:
        aware = occ.replace(tzinfo=UTC) if all_day else occ
        if aware >= end_bound or len(found) >= MAX_INSTANCES:
            break
        if window_start is not None and aware + length <= window_start:
            continue
        found.append(occ)
    return found


def parse_instance_id(event_id: str) -> tuple[str, str] | None:
    master, sep, suffix = event_id.rpartition("_")
    if not sep or not master:
        return None
    return master, suffix


def original_start(master: dict[str, Any], occ: datetime) -> dict[str, str]:
    if "date" in master["start"]:
        return {"date": occ.date().isoformat()}
    out = {"dateTime": format_dt(occ)}
    if "timeZone" in master["start"]:
        out["timeZone"] = master["start"]["timeZone"]
    return out


def make_instance(master: dict[str, Any], occ: datetime) -> dict[str, Any]:
    """A synthesized (unmodified) instance of the series at original start ``occ``."""
    all_day = "date" in master["start"]
    inst = copy.deepcopy(master)
    inst.pop("recurrence", None)
    inst["id"] = instance_id(master["id"], occ, all_day)
    inst["recurringEventId"] = master["id"]
    inst["originalStartTime"] = original_start(master, occ)
    length = duration(master["start"], master["end"])
    if all_day:
        inst["start"] = {"date": occ.date().isoformat()}
        inst["end"] = {"date": (occ.date() + length).isoformat()}
    else:
        inst["start"] = {"dateTime": format_dt(occ)}
        inst["end"] = {"dateTime": format_dt(occ + length)}
        for key in ("start", "end"):
            if "timeZone" in master[key]:
                inst[key]["timeZone"] = master[key]["timeZone"]
    digest = hashlib.sha256(f"{master['etag']}{inst['id']}".encode()).hexdigest()[:16]
    inst["etag"] = f'"{int(digest, 16) % 10**16:016d}"'
    return inst


def find_occurrence(master: dict[str, Any], suffix: str, now: datetime) -> datetime | None:
    """The occurrence whose instance-id suffix is ``suffix``, if the series has one."""
    all_day = "date" in master["start"]
    try:
        if all_day:
            target = datetime.strptime(suffix, "%Y%m%d")
        else:
            target = datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    rules = build(master["recurrence"], master["start"])
    probe = target if all_day else target.astimezone(dtstart(master["start"]).tzinfo)
    found = rules.after(probe, inc=True)
    if found is None:
        return None
    same = found == probe if all_day else found.astimezone(UTC) == target
    return found if same else None


def series_instant(master: dict[str, Any], default_tz: ZoneInfo) -> datetime:
    return to_instant(master["start"], default_tz)
