"""Event writes on the state, shared by Graph handlers and the "another client" helpers:
create (with transactionId de-duplication), update and delete (with If-Match), moves, and
the journal that delta queries and change notifications read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from casecal.emulators.microsoft import instances, meetings
from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.eventmodel import apply_body
from casecal.emulators.microsoft.state import MicrosoftState, StoredEvent, Tombstone


@dataclass(frozen=True)
class Target:
    """What an event id in a URL points at: a stored event, or one slot of a series."""

    event: StoredEvent
    key: datetime | date | None = None


def not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def resolve(state: MicrosoftState, owner_oid: str, any_id: str) -> Target:
    event = state.find_event(any_id)
    key = None
    if event is None and "_" in any_id:
        master_id, _, text = any_id.rpartition("_")
        key = instances.parse_stamp(text)
        event = state.find_event(master_id) if key is not None else None
        if event is not None and (
            not event.recurrence or instances.slot(event, key) is None  # type: ignore[arg-type]
        ):
            event = None
    if event is None or event.owner_oid != owner_oid:
        raise not_found()
    return Target(event, key)


def check_if_match(header: str | None, change_key: str) -> None:
    if header is None or header.strip() == "*":
        return
    offered = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    if change_key not in offered:
        raise GraphError(
            412,
            "ErrorIrresolvableConflict",
            "The change key passed in the request does not match the current change key for "
            "the item.",
        )


def _touch(state: MicrosoftState, event: StoredEvent, *, new_key: bool = True) -> None:
    if new_key:
        event.change_key = state.ids.change_key()
    event.modified = state.clock.now()
    event.seq = state.next_seq()


def _notify(state: MicrosoftState, change: str, event: StoredEvent, calendar_id: str) -> None:
    for listener in list(state.listeners):
        listener(change, event, calendar_id)


def create(
    state: MicrosoftState, owner_oid: str, calendar_id: str, body: object
) -> tuple[StoredEvent, bool]:
    """Create an event; returns (event, created). A repeated transactionId returns the event
    created first, unchanged."""
    transaction = body.get("transactionId") if isinstance(body, dict) else None
    if isinstance(transaction, str) and (owner_oid, transaction) in state.transactions:
        existing = state.events.get(state.transactions[(owner_oid, transaction)])
        if existing is not None:
            return existing, False
    now = state.clock.now()
    immutable = state.ids.graph_id("AAkALg")
    event = StoredEvent(
        rest_id=state.ids.graph_id("AAMkA"),
        immutable_id=immutable,
        calendar_id=calendar_id,
        owner_oid=owner_oid,
        ical_uid="040000008200E00074C5B7101A82E008" + state.ids.guid().replace("-", "").upper(),
        change_key="",
        created=now,
        modified=now,
        seq=0,
        start=now,
        end=now,
        start_tz="UTC",
        end_tz="UTC",
        is_all_day=False,
    )
    apply_body(event, body, creating=True, instance=False)
    meetings.record(state, event, None, meetings.meeting_of(event))
    _touch(state, event)
    state.events[immutable] = event
    state.rest_ids[event.rest_id] = immutable
    if event.transaction_id:
        state.transactions[(owner_oid, event.transaction_id)] = immutable
    _notify(state, "created", event, calendar_id)
    return event, True


def current_key(target: Target) -> str:
    if target.key is not None and target.key in target.event.exceptions:
        return target.event.exceptions[target.key].change_key
    return target.event.change_key


def update(
    state: MicrosoftState, target: Target, body: object, if_match: str | None
) -> StoredEvent:
    """PATCH an event, a series master, or one occurrence (which becomes an exception)."""
    check_if_match(if_match, current_key(target))
    master = target.event
    if target.key is None:
        before = meetings.meeting_of(master)
        apply_body(master, body, creating=False, instance=master.original_start is not None)
        meetings.record(state, master, before, meetings.meeting_of(master))
        _touch(state, master)
        _notify(state, "updated", master, master.calendar_id)
        return master
    key = target.key
    exception = master.exceptions.get(key)
    if exception is None:
        inst = instances.slot(master, key)
        if inst is None:
            raise not_found()
        exception = StoredEvent(
            rest_id=master.rest_id,
            immutable_id=master.immutable_id,
            calendar_id=master.calendar_id,
            owner_oid=master.owner_oid,
            ical_uid=master.ical_uid,
            change_key=master.change_key,
            created=state.clock.now(),
            modified=state.clock.now(),
            seq=0,
            start=inst.start,
            end=inst.end,
            start_tz=master.start_tz,
            end_tz=master.end_tz,
            is_all_day=master.is_all_day,
            original_start=key,
        )
    series = meetings.meeting_of(master)
    before = meetings.meeting_of(exception, series)
    apply_body(exception, body, creating=False, instance=True)
    after = meetings.meeting_of(exception, series)
    meetings.record(state, exception, before, after, master=master, slot=key)
    master.exceptions[key] = exception
    _touch(state, exception)
    _touch(state, master, new_key=False)
    _notify(state, "updated", master, master.calendar_id)
    return exception


def _bury(state: MicrosoftState, event: StoredEvent, calendar_id: str) -> None:
    state.tombstones.append(Tombstone(event, calendar_id, event.rest_id, state.next_seq()))


def delete(state: MicrosoftState, target: Target, if_match: str | None) -> None:
    check_if_match(if_match, current_key(target))
    event = target.event
    if target.key is not None:
        series = meetings.meeting_of(event)
        single = event.exceptions.get(target.key)
        was = meetings.meeting_of(single, series) if single is not None else series
        meetings.record(state, single or event, was, None, master=event, slot=target.key)
        event.exceptions.pop(target.key, None)
        event.cancelled.add(target.key)
        _touch(state, event, new_key=False)
        _notify(state, "updated", event, event.calendar_id)
        return
    meetings.record(state, event, meetings.meeting_of(event), None)
    del state.events[event.immutable_id]
    state.rest_ids.pop(event.rest_id, None)
    if event.transaction_id:
        state.transactions.pop((event.owner_oid, event.transaction_id), None)
    _bury(state, event, event.calendar_id)
    _notify(state, "deleted", event, event.calendar_id)


def move(state: MicrosoftState, event: StoredEvent, calendar_id: str) -> StoredEvent:
    """Move an event to another calendar of its owner: the default id changes, the immutable
    id does not (as when a user drags it across calendars in Outlook)."""
    if event.calendar_id == calendar_id:
        return event
    _bury(state, event, event.calendar_id)
    _notify(state, "deleted", event, event.calendar_id)
    state.rest_ids.pop(event.rest_id, None)
    event.rest_id = state.ids.graph_id("AAMkA")
    state.rest_ids[event.rest_id] = event.immutable_id
    event.calendar_id = calendar_id
    _touch(state, event)
    _notify(state, "created", event, calendar_id)
    return event
