"""Shared constants and helpers of the Google emulator tests."""

from __future__ import annotations

from typing import Any

import httpx

ALICE = "alice@example.com"
CLIENT_ID = "casecal-test-client"
CLIENT_SECRET = "casecal-test-secret"
REDIRECT = "https://app.example/oauth/callback"
BASE = "http://google.test"
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
LIST_SCOPE = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
EVENTS = "/calendar/v3/calendars/primary/events"


def event(summary: str = "Meeting", day: int = 10, hour: int = 9, **extra: Any) -> dict[str, Any]:
    """A one-hour timed event in January 2030 (UTC)."""
    return {
        "summary": summary,
        "start": {"dateTime": f"2030-01-{day:02d}T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2030-01-{day:02d}T{hour + 1:02d}:00:00Z"},
        **extra,
    }


def reason(response: httpx.Response) -> str:
    """The first Google error reason of an error response (checks the error format too)."""
    body = response.json()["error"]
    assert body["code"] == response.status_code
    assert isinstance(body["message"], str)
    assert isinstance(body["status"], str)
    item = body["errors"][0]
    assert {"domain", "reason", "message"} <= set(item)
    return str(item["reason"])
