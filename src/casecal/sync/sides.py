"""Small readings of rows and provider answers that every phase of a pass needs: the remote
side the plan sees, the tag a write carries, what a write leaves on the remote occurrence by
occurrence. Pure functions of their arguments (no session, no request)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from casecal.domain import overrides
from casecal.domain.plan import RemoteSide
from casecal.domain.recurrence import EventTime, time_key
from casecal.domain.tags import Tag
from casecal.providers import base as pb
from casecal.store.tables import Appointment, Connection, Link, utcnow
from casecal.sync.hostview import EntryRow, HostItem


def changed_of(link: Link | None) -> frozenset[str]:
    """The occurrences the remote holds changed on their own, as last synced."""
    held = link.occurrences or {} if link is not None else {}
    return frozenset(k for k, v in held.items() if v != overrides.CANCELLED)


def sent_occurrences(item: HostItem) -> dict[str, str]:
    """What a write of the host entry leaves on the remote, occurrence by occurrence: the
    digests of the series' overrides it sends, and its cancelled occurrences."""
    if not isinstance(item.row, Appointment):
        return {}
    sent = {time_key(o.original_start) for o in item.event.overrides}
    held = overrides.synced(x for x in item.row.overrides if overrides.slot(x) in sent)
    return held | {time_key(x): overrides.CANCELLED for x in item.event.cancelled}


def tag_of(item: HostItem, connection: Connection) -> Tag:
    return Tag(entry_id=item.row.id, kind=item.row.kind, connection_id=connection.id)


def fingerprint_of(result: pb.WriteResult) -> str | None:
    """The fingerprint of the event a write's answer holds (None when it holds none)."""
    if result.remote is None or result.remote.event is None:
        return None
    return result.remote.event.fingerprint()


def local_start(at: datetime | None, day: date | None, tz: str) -> EventTime | None:
    """A series' start where its rule is read: the local time of a timed one, or its day."""
    return at.astimezone(ZoneInfo(tz)) if at is not None else day


def version_of(row: EntryRow | None) -> int | None:
    return row.version if row is not None else None


def remote_side(remote: pb.RemoteEvent | None, connection_id: uuid.UUID) -> RemoteSide | None:
    """The remote side of a pair as the plan sees it, from an event read from the remote."""
    if remote is None or remote.event is None:
        return None
    ours = remote.tag is not None and remote.tag.connection_id == connection_id
    return RemoteSide(
        fingerprint=remote.event.fingerprint(),
        etag=remote.etag,
        modified=remote.modified_at or utcnow(),
        ours=ours,
        kind=remote.tag.kind if ours and remote.tag is not None else None,
    )


def linked_remote_side(link: Link | None) -> RemoteSide | None:
    """The remote side of a pair as last synced (the push plans against the link, not a
    read: a remote change since comes through the next pull)."""
    if link is None or link.tombstoned_at is not None:
        return None
    return RemoteSide(
        fingerprint=link.remote_fingerprint,
        etag=link.remote_etag or None,
        modified=link.updated_at,
        ours=True,
    )
