"""Graph's dateTimeTimeZone values: zone names (Windows or IANA) to zoneinfo, parsing the
offset-free ``dateTime`` strings, and formatting them back with seven fractional digits."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from casecal.emulators.microsoft.errors import GraphError

_UTC_NAMES = {"utc", "etc/utc", "etc/gmt", "tzone://microsoft/utc", "coordinated universal time"}
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$"
)


def tz_not_supported(name: str) -> GraphError:
    return GraphError(
        400,
        "TimeZoneNotSupportedException",
        "A valid TimeZone value must be specified. The following TimeZone value is not "
        f"supported: '{name}'.",
    )


def resolve_zone(name: str) -> tzinfo:
    """Windows names (CLDR table) and IANA names; anything else is refused like Graph does."""
    if name.strip().lower() in _UTC_NAMES:
        return UTC
    if name in win_tz:
        return ZoneInfo(win_tz[name])
    if not name or name.startswith("tzone://") or "/" not in name:
        raise tz_not_supported(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise tz_not_supported(name) from exc


def parse_local(value: object, zone_name: str) -> datetime:
    """A ``dateTime`` + ``timeZone`` pair as an aware datetime. An offset in ``dateTime`` is
    only accepted when it agrees with a UTC zone (anything else is ambiguous: refused)."""
    if not isinstance(value, str):
        raise GraphError(400, "ErrorInvalidRequest", "dateTime must be a string.")
    match = _DATETIME.match(value)
    if match is None:
        raise GraphError(400, "ErrorInvalidRequest", f"Cannot convert '{value}' to a DateTime.")
    day, clock, fraction, offset = match.groups()
    zone = resolve_zone(zone_name)
    if offset and not (zone is UTC and offset in ("Z", "+00:00", "-00:00")):
        raise GraphError(
            400,
            "ErrorInvalidRequest",
            f"dateTime '{value}' carries an offset that contradicts timeZone '{zone_name}'.",
        )
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parts = clock.split(":")
    local = datetime.combine(
        date.fromisoformat(day),
        time(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) > 2 else 0, micro),
    )
    return local.replace(tzinfo=zone)


def parse_window(value: str | None, name: str) -> datetime:
    """A query-string instant (startDateTime/endDateTime): ISO 8601, UTC when no offset."""
    if not value:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", f"Invalid {name}: '{value}'.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_local(moment: datetime, zone_name: str) -> dict[str, str]:
    """An instant as Graph writes it: wall time in the zone, seven fractional digits."""
    local = moment.astimezone(resolve_zone(zone_name))
    return {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0",
        "timeZone": zone_name,
    }


def format_date(day: date, zone_name: str) -> dict[str, str]:
    """An all-day boundary: midnight of that date, labelled with the output zone."""
    return {"dateTime": f"{day.isoformat()}T00:00:00.0000000", "timeZone": zone_name}


def utc_iso(moment: datetime) -> str:
    """Read-only instants (createdDateTime, originalStart, ...): UTC with a Z."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + "0Z"
