"""The emulated calendars: accounts, calendars with access roles, stored events with etags
and a per-calendar change sequence (the basis of sync tokens), and the event write rules."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import eventbody, recurrence
from .clock import Clock, format_ms
from .errors import ApiError, invalid, not_found
from .meetings import SentMessage

ROLES = ("freeBusyReader", "reader", "writer", "owner")


@dataclass
class Account:
    email: str
    name: str
    sub: str
    calendars: list[str] = field(default_factory=list)
    hosted_domain: str = ""
    """The ``hd`` claim: set only for Google Workspace accounts."""
    email_verified: bool = True
    is_admin: bool = False
    """A super administrator of its Workspace domain: may install apps for the whole domain."""


@dataclass
class StoredEvent:
    resource: dict[str, Any]
    seq: int


@dataclass
class Calendar:
    id: str
    summary: str
    time_zone: str
    roles: dict[str, str]
    events: dict[str, StoredEvent] = field(default_factory=dict)
    seq: int = 0
    epoch: int = 0
    """Sync tokens issued under an older epoch are expired (410 fullSyncRequired)."""
    resource_id: str = field(default_factory=lambda: secrets.token_urlsafe(20))


class State:
    """All calendar data of one emulator. ``on_change(calendar_id)`` fires after each write."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.calendars: dict[str, Calendar] = {}
        self.on_change: Callable[[str], None] = lambda _calendar_id: None
        self.sent_messages: list[SentMessage] = []
        """Guest mail Google would have sent (``meetings``): none with ``sendUpdates=none``."""

    # -- accounts and calendars ------------------------------------------------------------
    def add_account(
        self,
        email: str,
        name: str,
        sub: str,
        hosted_domain: str = "",
        email_verified: bool = True,
        is_admin: bool = False,
    ) -> Account:
        if email in self.accounts:
            raise ValueError(f"account {email} exists")
        account = Account(email=email, name=name, sub=sub, hosted_domain=hosted_domain,
                          email_verified=email_verified, is_admin=is_admin)  # fmt: skip
        self.accounts[email] = account
        self.calendars[email] = Calendar(email, email, "UTC", {email: "owner"})
        account.calendars.append(email)
        return account

    def add_calendar(self, email: str, summary: str, access_role: str, time_zone: str) -> str:
        if access_role not in ROLES:
            raise ValueError(f"access_role must be one of {ROLES}")
        account = self.accounts[email]
        cal_id = f"{secrets.token_hex(16)}@group.calendar.google.com"
        self.calendars[cal_id] = Calendar(cal_id, summary, time_zone, {email: access_role})
        account.calendars.append(cal_id)
        return cal_id

    def calendar_for(self, email: str, calendar_id: str, *, write: bool = False) -> Calendar:
        if calendar_id == "primary":
            calendar_id = email
        cal = self.calendars.get(calendar_id)
        if cal is None or email not in cal.roles:
            raise not_found()
        if write and cal.roles[email] not in ("writer", "owner"):
            raise ApiError(
                403, "requiredAccessLevel", "You need to have writer access to this calendar."
            )
        return cal

    # -- reads -------------------------------------------------------------------------------
    def get(self, cal: Calendar, event_id: str) -> dict[str, Any]:
        stored = cal.events.get(event_id)
        if stored is not None:
            return stored.resource
        master, occ = self._occurrence(cal, event_id)
        return recurrence.make_instance(master, occ)

    def _occurrence(self, cal: Calendar, event_id: str) -> tuple[dict[str, Any], Any]:
        parsed = recurrence.parse_instance_id(event_id)
        if parsed is None:
            raise not_found()
        master_id, suffix = parsed
        master = cal.events.get(master_id)
        if master is None or "recurrence" not in master.resource:
            raise not_found()
        if master.resource["status"] == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        occ = recurrence.find_occurrence(master.resource, suffix, self.clock.now_dt())
        if occ is None:
            raise not_found()
        return master.resource, occ

    # -- writes ------------------------------------------------------------------------------
    def _touch(self, cal: Calendar, resource: dict[str, Any]) -> None:
        ms = self.clock.stamp_ms()
        cal.seq += 1
        resource["etag"] = f'"{ms * 1000}"'
        resource["updated"] = format_ms(ms)
        resource.setdefault("created", resource["updated"])
        stored = cal.events.get(resource["id"])
        if stored is None:
            cal.events[resource["id"]] = StoredEvent(resource, cal.seq)
        else:
            stored.resource, stored.seq = resource, cal.seq

    def insert(self, cal: Calendar, body: Any, actor: str) -> dict[str, Any]:
        fields = eventbody.clean(body, insert=True)
        event_id = fields.pop("id", None) or secrets.token_hex(13)
        if event_id in cal.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        resource: dict[str, Any] = {
            "kind": "calendar#event",
            "id": event_id,
            "creator": {"email": actor, "self": True},
            "organizer": {"email": cal.id, "displayName": cal.summary, "self": True},
            "iCalUID": fields.pop("iCalUID", None) or f"{event_id}@google.com",
            "sequence": 0,
            "eventType": "default",
            **fields,
        }
        self._touch(cal, resource)
        self.on_change(cal.id)
        return resource

    def write(
        self, cal: Calendar, event_id: str, body: Any, *, patch: bool, if_match: str | None
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received.", reason="parseError")
        current = copy.deepcopy(self.get(cal, event_id))
        check_if_match(current, if_match)
        if body.get("id") not in (None, event_id):
            raise invalid("The event id in the body does not match the id in the path.")
        was_cancelled = current["status"] == "cancelled"
        if was_cancelled and body.get("status") not in ("confirmed", "tentative"):
            raise ApiError(410, "deleted", "Resource has been deleted")
        if patch:
            merged = eventbody.merge_patch(_client_part(current), body)
        else:
            merged = dict(body)
            for key in ("recurringEventId", "originalStartTime"):
                if key in current:
                    merged.setdefault(key, current[key])
        merged.pop("id", None)
        merged.pop("iCalUID", None)
        fields = eventbody.clean(merged, insert=False)
        if "recurringEventId" in current:
            fields.pop("recurrence", None)
            fields["recurringEventId"] = current["recurringEventId"]
            fields["originalStartTime"] = current["originalStartTime"]
        resource = {k: current[k] for k in _SERVER_FIELDS if k in current}
        resource.update(fields)
        if any(current.get(k) != resource.get(k) for k in ("start", "end", "recurrence")):
            resource["sequence"] = int(current.get("sequence", 0)) + 1
        self._touch(cal, resource)
        self.on_change(cal.id)
        return resource

    def delete(self, cal: Calendar, event_id: str, if_match: str | None) -> None:
        current = self.get(cal, event_id)
        if current["status"] == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        check_if_match(current, if_match)
        resource = copy.deepcopy(current)
        resource["status"] = "cancelled"
        self._touch(cal, resource)
        if "recurrence" in resource:
            for stored in list(cal.events.values()):
                exc = stored.resource
                if exc.get("recurringEventId") == event_id and exc["status"] != "cancelled":
                    gone = copy.deepcopy(exc)
                    gone["status"] = "cancelled"
                    self._touch(cal, gone)
        self.on_change(cal.id)

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        for cal in self.calendars.values():
            if calendar_id is None or cal.id == calendar_id:
                cal.epoch += 1

    def purge_tombstones(self, calendar_id: str) -> int:
        """Forget deleted events (as Google eventually does); older sync tokens expire."""
        cal = self.calendars[calendar_id]
        dead = [k for k, v in cal.events.items() if _is_real_deletion(cal, v.resource)]
        for key in dead:
            del cal.events[key]
        cal.epoch += 1
        return len(dead)


_SERVER_FIELDS = (
    "kind",
    "id",
    "creator",
    "organizer",
    "iCalUID",
    "sequence",
    "eventType",
    "created",
)
_CLIENT_SKIP = {
    "kind",
    "etag",
    "created",
    "updated",
    "htmlLink",
    "creator",
    "organizer",
    "sequence",
}


def _client_part(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in _CLIENT_SKIP}


def _is_real_deletion(cal: Calendar, resource: dict[str, Any]) -> bool:
    if resource["status"] != "cancelled":
        return False
    master = cal.events.get(resource.get("recurringEventId", ""))
    return master is None or master.resource["status"] == "cancelled"


def check_if_match(resource: dict[str, Any], if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    tags = [t.strip() for t in if_match.split(",")]
    if resource["etag"] not in tags:
        raise ApiError(412, "conditionNotMet", "Precondition Failed")
