"""Strict parsing of query parameters: unknown names, repeated single-valued names, and bad
booleans, integers or timestamps are all 400 errors, as Google answers them."""

from __future__ import annotations

from datetime import datetime

from .clock import parse_rfc3339
from .errors import invalid

STANDARD = {
    "alt", "fields", "key", "oauth_token", "access_token", "prettyPrint", "quotaUser",
    "userIp", "$.xgafv", "callback", "uploadType", "upload_protocol",
}  # fmt: skip


class Query:
    """The query string of one API call, checked against the method's parameter list."""

    def __init__(
        self, pairs: list[tuple[str, str]], allowed: set[str], repeatable: set[str]
    ) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in allowed and name not in STANDARD:
                raise invalid(f"Unknown parameter: {name}", reason="badRequest", location=name)
            self.values.setdefault(name, []).append(value)
        for name, values in self.values.items():
            if len(values) > 1 and name not in repeatable:
                raise invalid(f"Parameter {name} must not be repeated.", location=name)
        if self.values.get("alt", ["json"])[0] != "json":
            raise invalid("Only alt=json is supported.", location="alt")

    def has(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean value: '{value}'.", location=name)
        return value == "true"

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise invalid(f"Invalid value '{value}'.", location=name) from None
        if not low <= number <= high:
            raise invalid(
                f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]",
                location=name,
            )
        return number

    def instant(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        parsed = parse_rfc3339(value)
        if parsed is None:
            raise invalid(
                f"Bad Request: {name} must be RFC 3339 with a time zone offset.", location=name
            )
        return parsed

    def fingerprint(self, skip: set[str]) -> str:
        return "&".join(
            f"{k}={v}" for k in sorted(self.values) if k not in skip for v in self.values[k]
        )
