"""IANA <-> Windows time-zone names, from CLDR's windowsZones table as shipped by tzlocal.

IANA names are used everywhere inside CaseCal; Graph gets Windows names. One Windows name
covers many IANA zones, so a known IANA zone (the hint) is kept whenever it maps to that name.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tzlocal.windows_tz import tz_win, win_tz

from casecal.errors import ValidationFailed

CUSTOM_ZONE = "tzone://Microsoft/Custom"
"""Graph's label for a legacy custom zone from desktop Outlook: it has no name to map."""
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Zulu", "Etc/Universal", "Etc/UCT"})


class UnknownTimeZone(ValidationFailed):
    """A zone name that is neither IANA nor a Windows name CLDR knows (or Outlook's custom zone)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}", field="time_zone")
        self.name = name


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_iana_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone id this system can load."""
    if name in UTC_NAMES or name in _iana_names():
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA name; raise :class:`UnknownTimeZone` if there is none."""
    if not is_iana_zone(name):
        raise UnknownTimeZone(name)
    return ZoneInfo(name)


def windows_name(iana: str) -> str | None:
    """The Windows zone name for an IANA zone, or ``None`` when CLDR has no mapping."""
    if iana in UTC_NAMES:
        return "UTC"
    return tz_win.get(iana)


def iana_name(name: str, *, hint: str | None = None) -> str | None:
    """The IANA zone for a zone name as Graph returns it (Windows, IANA or ``UTC``).

    Rules: an IANA name is kept as it is; a Windows name gives ``hint`` when the hint maps to
    that same Windows name, else CLDR's default zone (territory 001); ``UTC`` gives ``UTC``;
    Outlook's custom zone and unknown names give ``None`` (the caller decides the fallback).
    The answer for a (name, hint) is worked out once: a calendar repeats a few of each.
    """
    return _iana_name(name, hint)


@lru_cache(maxsize=1024)
def _iana_name(name: str, hint: str | None) -> str | None:
    if not name or name == CUSTOM_ZONE:
        return None
    if name in UTC_NAMES:
        return hint if hint is not None and windows_name(hint) == "UTC" else "UTC"
    if name in win_tz:
        if hint is not None and windows_name(hint) == name:
            return hint
        return win_tz[name]
    if "/" in name and is_iana_zone(name):
        return name
    return None


def require_iana_name(name: str, *, hint: str | None = None) -> str:
    """Like :func:`iana_name`, but raise :class:`UnknownTimeZone` instead of returning ``None``."""
    found = iana_name(name, hint=hint)
    if found is None:
        raise UnknownTimeZone(name)
    return found
