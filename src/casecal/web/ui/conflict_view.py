"""A conflict record as a person reads it, without I/O: which version was kept, which fields
differed, and both values of each in the viewer's zone (never raw snapshots or ISO strings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIELDS = (("title", "Title"), ("start", "Start"), ("end", "End"), ("time_zone", "Time zone"),
          ("location", "Location"), ("description", "Notes"), ("notes", "Notes"))  # fmt: skip
"""The snapshot keys a person cares about, in reading order (``fingerprint`` and markers are
bookkeeping)."""
TIMES = frozenset({"start", "end"})
LONGEST = 160
SIDES = {"host": "CaseCal", "remote": "calendar"}


@dataclass(frozen=True)
class FieldDiff:
    label: str
    kept: str
    other: str


@dataclass(frozen=True)
class ConflictView:
    title: str
    kept_side: str
    """``CaseCal`` or ``calendar``: whose version was kept."""
    other_side: str
    occurrence: str
    """``""``, or the occurrence of a series the conflict is about, as a reader reads it."""
    summary: str
    diffs: tuple[FieldDiff, ...]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _time(value: str, zone: ZoneInfo) -> tuple[str, object]:
    """A stored time as text and as a value to compare by: a date, or an instant in the
    viewer's zone (a time without offset is the series' wall time and stays as it is)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return f"{day:%a %d %b %Y} (all day)", day
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value, value
    if moment.tzinfo is None:
        return f"{moment:%a %d %b %Y, %H:%M}", moment
    local = moment.astimezone(zone)
    return local.strftime("%a %d %b %Y, %H:%M %Z"), local


def _text(value: Any) -> str:
    text = " ".join(str(value).split()) if value not in (None, "") else ""
    if not text:
        return "(empty)"
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _value(key: str, snapshot: Mapping[str, Any], zone: ZoneInfo) -> tuple[str, object]:
    raw = snapshot.get(key)
    if key in TIMES and isinstance(raw, str) and raw:
        return _time(raw, zone)
    shown = _text(raw)
    return shown, shown


def field_diffs(
    kept: Mapping[str, Any], other: Mapping[str, Any], zone: ZoneInfo
) -> tuple[FieldDiff, ...]:
    """The fields whose values differ (times compared as instants), both values readable."""
    diffs = []
    for key, label in FIELDS:
        if key not in kept and key not in other:
            continue
        kept_text, kept_value = _value(key, kept, zone)
        other_text, other_value = _value(key, other, zone)
        if kept_value != other_value:
            diffs.append(FieldDiff(label, kept_text, other_text))
    return tuple(diffs)


def describe(
    winner: str, kept: Mapping[str, Any], other: Mapping[str, Any], viewer_zone: str
) -> ConflictView:
    """``winner`` is ``host`` or ``remote``; ``kept`` / ``other`` the two snapshots."""
    zone = _zone(viewer_zone)
    kept_side = SIDES.get(winner, winner)
    other_side = SIDES["remote" if winner == "host" else "host"]
    title = str(kept.get("title") or other.get("title") or "(untitled)")
    occurrence = ""
    if kept.get("occurrence") or other.get("occurrence"):
        slot = str(kept.get("original_start") or other.get("original_start") or "")
        occurrence = _time(slot, zone)[0] if slot else "one occurrence"
    if other.get("deleted") or other.get("removed"):
        gone = "deleted it" if other.get("deleted") else "undone its change of the occurrence"
        summary = f"The {other_side} version had {gone}; the {kept_side} version was kept."
        return ConflictView(title, kept_side, other_side, occurrence, summary, ())
    if kept.get("deleted") or kept.get("removed"):
        gone = "deleted it" if kept.get("deleted") else "undid its change of the occurrence"
        summary = f"The {kept_side} version {gone}; the {other_side} version had changed it."
        diffs = tuple(FieldDiff(label, "(deleted)", _value(key, other, zone)[0])
                      for key, label in FIELDS if other.get(key))  # fmt: skip
        return ConflictView(title, kept_side, other_side, occurrence, summary, diffs)
    diffs = field_diffs(kept, other, zone)
    names = ", ".join(d.label.lower() for d in diffs) or "nothing visible"
    summary = f"Both sides changed it ({names} differed); the {kept_side} version was kept."
    return ConflictView(title, kept_side, other_side, occurrence, summary, diffs)
