"""The emulator's whole state: tenants, users, app registrations, grants, tokens, calendars,
events with their change journal, delta cursors and subscriptions. Plain data, no HTTP."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casecal.emulators.microsoft.meetings import SentMessage


class Clock:
    """Wall clock with an offset that tests and the admin surface can advance."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Tenant:
    id: str
    domain: str
    admin_consent_required: bool
    admin_grants: dict[str, set[str]] = field(default_factory=dict)
    """client_id -> lower-cased scopes an admin consented to for the whole tenant ('*' = all)."""


@dataclass
class User:
    oid: str
    tenant_id: str
    upn: str
    name: str
    mail: str
    is_admin: bool
    default_calendar_id: str = ""
    grants: dict[str, set[str]] = field(default_factory=dict)
    """client_id -> lower-cased scopes this user consented to for themself."""
    groups: list[str] = field(default_factory=list)
    """The ``groups`` claim of the user's id_tokens (group object ids or names), if any."""
    email_verified_optional: bool = False
    """Whether id_tokens carry the ``xms_edov`` optional claim (the email's domain verified)."""


@dataclass
class AppRegistration:
    client_id: str
    client_secret: str | None
    redirect_uris: list[str]


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    oid: str
    scopes: list[str]
    code_challenge: str
    nonce: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    oid: str
    scopes: list[str]
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    oid: str
    scopes: list[str]
    last_used: datetime
    revoked: bool = False
    forced_error: str | None = None
    """'expired' (AADSTS70008) or 'inactive' (AADSTS700082) when forced from the admin surface."""


@dataclass
class Calendar:
    id: str
    owner_oid: str
    name: str
    is_default: bool
    change_key: str
    color: str = "auto"


@dataclass
class StoredEvent:
    """One event as the store keeps it. Times: ``start``/``end`` are aware UTC datetimes for
    timed events, or dates (exclusive end) for all-day events; ``start_tz``/``end_tz`` are the
    time-zone names the client wrote."""

    rest_id: str
    immutable_id: str
    calendar_id: str
    owner_oid: str
    ical_uid: str
    change_key: str
    created: datetime
    modified: datetime
    seq: int
    start: datetime | date
    end: datetime | date
    start_tz: str
    end_tz: str
    is_all_day: bool
    props: dict[str, Any] = field(default_factory=dict)
    """Other writable properties, in Graph JSON form (subject, body, location, ...)."""
    recurrence: dict[str, Any] | None = None
    transaction_id: str | None = None
    extended: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Normalised extended-property id -> (id as written, value)."""
    exceptions: dict[datetime | date, StoredEvent] = field(default_factory=dict)
    """Series masters: original start (UTC instant, or date when all-day) -> the modified
    occurrence."""
    cancelled: set[datetime | date] = field(default_factory=set)
    """Series masters: original starts of deleted occurrences."""
    original_start: datetime | date | None = None
    """Exceptions only: the slot's original start (UTC)."""


@dataclass
class Tombstone:
    """A deletion (or a move out of a calendar) remembered for delta queries."""

    event: StoredEvent
    calendar_id: str
    rest_id: str
    seq: int


@dataclass
class DeltaCursor:
    token: str
    kind: str  # "skip" (more pages in this round) or "delta" (round complete)
    oid: str
    client_id: str
    calendar_id: str
    path: str
    window: tuple[datetime, datetime]
    watermark: int
    pending: list[list[tuple[str, Any]]] = field(default_factory=list)
    """Skip cursors: the units still to serve; a unit is a list of (kind, ref) items."""
    expired: bool = False


@dataclass
class Subscription:
    id: str
    client_id: str
    oid: str
    tenant_id: str
    resource: str
    calendar_id: str | None
    change_types: list[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires_at: datetime
    immutable_ids: bool = False
    needs_reauthorization: bool = False


class IdFactory:
    """Seeded generators for Graph-looking ids, change keys and GUIDs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def graph_id(self, prefix: str = "AAMkA") -> str:
        raw = self.rng.getrandbits(8 * 45).to_bytes(45, "big")
        return prefix + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def change_key(self) -> str:
        raw = self.rng.getrandbits(8 * 18).to_bytes(18, "big")
        return base64.b64encode(raw).decode("ascii")


@dataclass
class MicrosoftState:
    ids: IdFactory
    clock: Clock = field(default_factory=Clock)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    apps: dict[str, AppRegistration] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    events: dict[str, StoredEvent] = field(default_factory=dict)
    """immutable id -> event (single instances and series masters)."""
    rest_ids: dict[str, str] = field(default_factory=dict)
    """default (REST) id -> immutable id."""
    tombstones: list[Tombstone] = field(default_factory=list)
    transactions: dict[tuple[str, str], str] = field(default_factory=dict)
    """(owner oid, transactionId) -> immutable id."""
    cursors: dict[str, DeltaCursor] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    listeners: list[Callable[[str, StoredEvent, str], None]] = field(default_factory=list)
    """Called with (changeType, event, calendar id) after every event change."""
    sent_messages: list[SentMessage] = field(default_factory=list)
    """Meeting mail Exchange would have sent (``meetings``): none unless attendees are written."""
    sequence: int = 0
    auto_approve: bool = False
    allow_http_notification_urls: bool = False
    require_if_match: bool = False
    """Answer an event PATCH or DELETE without ``If-Match`` with 428 (Graph accepts one; a
    test switches this on to prove that a client always sends its change key)."""

    def next_seq(self) -> int:
        self.sequence += 1
        return self.sequence

    def tenant_for(self, key: str) -> Tenant | None:
        """A tenant by GUID or domain (case-insensitive)."""
        if key in self.tenants:
            return self.tenants[key]
        lowered = key.lower()
        return next((t for t in self.tenants.values() if t.domain.lower() == lowered), None)

    def user_by_upn(self, upn: str) -> User | None:
        lowered = upn.lower()
        return next((u for u in self.users.values() if u.upn.lower() == lowered), None)

    def user_for(self, key: str) -> User | None:
        """A user by object id or UPN."""
        return self.users.get(key) or self.user_by_upn(key)

    def find_event(self, any_id: str) -> StoredEvent | None:
        """A stored event (single or master) by its immutable or default id."""
        return self.events.get(any_id) or self.events.get(self.rest_ids.get(any_id, ""))

    def calendars_of(self, oid: str) -> list[Calendar]:
        return [c for c in self.calendars.values() if c.owner_oid == oid]

    def events_in(self, calendar_id: str) -> list[StoredEvent]:
        return [e for e in self.events.values() if e.calendar_id == calendar_id]
