"""The conflict records a pass stores: both versions of a pair (or of one occurrence of a
series) that changed on both sides, so the loser can be restored."""

from __future__ import annotations

import uuid
from typing import Any

from casecal.domain import overrides
from casecal.domain.event import CanonicalEvent
from casecal.domain.plan import Action, Side
from casecal.providers import base as pb
from casecal.store.tables import Appointment, ConflictRecord, Connection, EntryKind, Link
from casecal.sync.hostview import HostItem


def snapshot(event: CanonicalEvent | None) -> dict[str, Any]:
    if event is None:
        return {"deleted": True}
    return {
        "title": event.title,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "time_zone": event.tz,
        "location": event.location,
        "description": event.description,
        "fingerprint": event.fingerprint(),
    }


def occurrence_conflict(
    connection: Connection,
    row: Appointment,
    won: Side,
    host: overrides.Stored,
    remote: overrides.Stored,
) -> ConflictRecord:
    """The record of one occurrence of a series changed on both sides; its snapshots name
    the occurrence, so a restore brings back that occurrence alone."""
    if "title" not in host:
        host = {**host, "removed": "true"}  # the host had removed its change of the occurrence
    winner_snapshot, loser_snapshot = (host, remote) if won is Side.HOST else (remote, host)
    return ConflictRecord(
        firm_id=connection.firm_id, connection_id=connection.id,
        entry_kind=EntryKind.APPOINTMENT, entry_id=row.id, winner=won.value,
        winner_snapshot={"occurrence": True, **winner_snapshot},
        loser_snapshot={"occurrence": True, **loser_snapshot},
    )  # fmt: skip


def conflict_record(
    connection: Connection,
    action: Action,
    item: HostItem | None,
    remote: pb.RemoteEvent | None,
    link: Link | None,
    kind: EntryKind | None,
    entry_id: uuid.UUID | None,
) -> ConflictRecord:
    assert action.conflict is not None
    host_snap = snapshot(item.event if item else None)
    remote_snap = snapshot(remote.event if remote else None)
    host_wins = action.conflict.winner.value == "host"
    return ConflictRecord(
        firm_id=connection.firm_id,
        connection_id=connection.id,
        entry_kind=kind or (link.entry_kind if link else EntryKind.APPOINTMENT),
        entry_id=entry_id or (link.entry_id if link else uuid.uuid4()),
        winner=action.conflict.winner.value,
        winner_snapshot=host_snap if host_wins else remote_snap,
        loser_snapshot=remote_snap if host_wins else host_snap,
    )
