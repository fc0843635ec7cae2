"""The ``Provider`` protocol every calendar adapter implements, and the values it trades in.

Adapters speak HTTP and provider JSON at one edge and ``CanonicalEvent`` at the other; the
sync engine only ever sees the types below and the errors of ``casecal.providers.errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Container, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from casecal.domain.event import CanonicalEvent
    from casecal.domain.tags import Tag
    from casecal.providers.errors import ProviderError


LinkedIds = Callable[[], Awaitable[tuple[Container[str], Container[str]]]]
"""Reads the caller's linked remote ids (``known``) and, of those, the ones already settled
as gone (``settled``). A change round calls it at most once, and only when a page carries
events or removals: a round that says nothing changed reads nothing."""


async def no_linked_ids() -> tuple[Container[str], Container[str]]:
    """A caller that links nothing (the default of ``Provider.changes``)."""
    return frozenset(), frozenset()


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider allows: how many writes one batch may carry, how many requests may be
    in flight per account, and whether push notifications exist."""

    name: str
    max_batch_size: int
    max_concurrency: int
    supports_push: bool = True
    removals_reliable: bool = False
    """What ``ChangePage.removed`` names is gone: Google's cancelled items are deletions, and
    the Graph adapter reads back the linked events delta reports removed (delta also reports
    an event that merely left the window). False: the engine reads each one to confirm."""
    occurrences_listed: bool = False
    """A change round lists every occurrence of a changed series in the window (Graph's
    calendarView delta), so one missing from it was cancelled. Google lists masters and
    only the exceptions, cancelled ones explicitly."""
    exceptions_outlive_rule: bool = False
    """A series whose rule changes keeps its cancelled and changed occurrences that the new
    rule still has (Google: they are instances of their own). False: a new rule drops them
    (Graph)."""


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """Who authorised the connection. ``subject`` is the stable key (Google ``sub``, Graph
    ``oid``); ``email`` is for display and the case-manager cross-check."""

    provider: str
    subject: str
    email: str
    name: str = ""
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    id: str
    name: str
    primary: bool
    writable: bool
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """The time range a full listing covers. Incremental rounds are not bounded by it (Google
    cannot bound them), so consumers filter changes against it themselves."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    """One event as the provider holds it.

    ``event`` is None for a tombstone that still names an item: a cancelled occurrence of a
    live series (``series_id`` and ``original_start`` say which slot). ``etag`` is the value to
    send back in ``If-Match`` (Google etag, Graph ``W/"changeKey"``). ``tag`` is CaseCal's own
    tag when the event carries one (None for events CaseCal did not create, or when the
    provider could not return it on this read). ``problem`` says why a live event could not
    be translated (``event`` is then None too): such an event is skipped, never deleted."""

    id: str
    etag: str | None
    event: CanonicalEvent | None
    tag: Tag | None = None
    series_id: str | None = None
    original_start: datetime | date | None = None
    problem: str | None = None
    modified_at: datetime | None = None
    """The provider's last-modified stamp (Google ``updated``, Graph
    ``lastModifiedDateTime``), aware; None when the item did not carry a readable one."""
    plain_occurrence: bool = False
    """An occurrence that only repeats its series (Graph ``type: occurrence``): nothing of its
    own to sync beyond the series.

    Nothing of the provider's JSON is kept: a pass may hold many events at once (the
    series masters of a round), and the sync reads only the typed fields."""

    @property
    def cancelled(self) -> bool:
        return self.event is None and self.problem is None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of a change round. ``removed`` holds ids the provider reports as deleted (on
    Graph this includes events that merely left the window: filter, never trust blindly).
    ``cursor`` is set on the last page of a round only: store it after the round is applied.
    ``full`` says the round is a full listing (it started without a cursor)."""

    events: list[RemoteEvent]
    removed: list[str]
    cursor: str | None = None
    full: bool = False

    @property
    def last(self) -> bool:
        return self.cursor is not None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one write. ``reused`` is True when a create found the event an earlier
    attempt with the same idempotency key had already made (no second event exists)."""

    id: str
    etag: str | None
    reused: bool = False
    remote: RemoteEvent | None = None


@dataclass(frozen=True, slots=True)
class CreateOp:
    event: CanonicalEvent
    tag: Tag
    changed: frozenset[str] = frozenset()
    """See ``Provider.update_event``."""


@dataclass(frozen=True, slots=True)
class UpdateOp:
    event_id: str
    event: CanonicalEvent
    tag: Tag
    etag: str | None
    changed: frozenset[str] = frozenset()
    """See ``Provider.update_event``."""


@dataclass(frozen=True, slots=True)
class DeleteOp:
    event_id: str
    etag: str | None


WriteOp = CreateOp | UpdateOp | DeleteOp


@dataclass(frozen=True, slots=True)
class PushChannel:
    """A push subscription: Google watch channel (``id`` + ``resource_id``) or Graph
    subscription (``id``). ``secret`` is echoed in each notification (channel token /
    clientState) and must be checked by the receiver."""

    id: str
    calendar_id: str
    address: str
    expires_at: datetime
    secret: str
    resource_id: str | None = None


@runtime_checkable
class Provider(Protocol):
    """One authorised account on one calendar service."""

    capabilities: Capabilities

    async def identity(self) -> AccountIdentity: ...

    async def list_calendars(self, *, writable_only: bool = True) -> list[CalendarInfo]: ...

    def changes(
        self,
        calendar_id: str,
        cursor: str | None,
        window: SyncWindow | None = None,
        *,
        linked: LinkedIds = no_linked_ids,
    ) -> AsyncIterator[ChangePage]:
        """Stream the pages of one change round; ``cursor=None`` lists ``window`` in full.
        ``linked`` reads, when a page first needs them, the ids of events the caller has
        already linked (``known``) and those of them already settled as gone (``settled``):
        a provider that needs an extra read to return an event's tag may skip it for known
        ids (their events then come with ``tag=None``), and a removal of a settled one needs
        no confirming read. A provider that needs neither never calls it. Raises
        ``CursorExpired`` when the cursor is dead."""
        ...

    async def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent: ...

    async def series_occurrences(
        self, calendar_id: str, series_id: str, window: SyncWindow
    ) -> list[datetime | date]:
        """The original starts of the live occurrences (moved ones included) of a series in
        ``window``: the provider's own expansion, cancelled occurrences left out."""
        ...

    async def find_event(self, calendar_id: str, tag: Tag) -> RemoteEvent | None:
        """The live event carrying ``tag`` (CaseCal's identity of a host entry on a
        connection), or None: how a create after a crash finds the first one (I1)."""
        ...

    async def create_event(
        self,
        calendar_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        """Create idempotently: the key derives from ``tag`` (connection, host entry), so a
        retry after a lost response returns the first event (``reused=True``)."""
        ...

    async def update_event(
        self,
        calendar_id: str,
        event_id: str,
        event: CanonicalEvent,
        tag: Tag,
        *,
        etag: str | None,
        changed: frozenset[str] = frozenset(),
    ) -> WriteResult:
        """Update guarded by ``etag``. For a series, ``changed`` names the occurrences (by
        ``time_key`` of their original start) the remote holds changed on their own as last
        synced: one that the event now cancels may need removing on its own."""
        ...

    async def delete_event(self, calendar_id: str, event_id: str, *, etag: str | None) -> None: ...

    async def write_batch(
        self, calendar_id: str, ops: Sequence[WriteOp]
    ) -> list[WriteResult | ProviderError]:
        """Run many writes in as few round trips as the provider allows; one result (or the
        error) per op, in order."""
        ...

    async def start_push(
        self, calendar_id: str, address: str, secret: str, expires_at: datetime
    ) -> PushChannel: ...

    async def renew_push(self, channel: PushChannel, expires_at: datetime) -> PushChannel: ...

    async def stop_push(self, channel: PushChannel) -> None: ...
