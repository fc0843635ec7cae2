"""Writing a remote event to the host: the appointment created, updated or brought back, and
its link saved with the fingerprints both sides now hold."""

from __future__ import annotations

from casecal.domain import overrides, recurrence
from casecal.domain.mapping import appointment_fields
from casecal.domain.plan import Op
from casecal.domain.series_decisions import kept_on_rule_change
from casecal.providers import base as pb
from casecal.store.tables import Appointment, Connection, EntryKind, Link, OutboxOp, utcnow
from casecal.sync import outbox_rows
from casecal.sync.hostview import EntryRow, HostView
from casecal.sync.links import LinkStore
from casecal.sync.outcomes import Direction, Tally
from casecal.sync.pass_context import Pass
from casecal.sync.sides import local_start


async def write_host(
    p: Pass,
    view: HostView,
    links: LinkStore,
    link: Link | None,
    row: EntryRow | None,
    remote: pb.RemoteEvent,
    connection: Connection,
    effect: Op,
) -> None:
    """Bring the remote event to the host (no commit: the caller's transaction holds it)."""
    assert remote.event is not None
    fields = appointment_fields(remote.event, full_details=connection.import_private_details)
    synced_as: str | None = None
    """The host fingerprint the link records, when not that of what the host holds."""
    if isinstance(row, Appointment):
        # An update, or a create on a linked pair whose entry was deleted: bring the same
        # entry back (clearing its tombstone) rather than making a second one.
        # What the host keeps of its own occurrences: see ``kept_on_rule_change``.
        same_rule = recurrence.same_rule(
            row.rrule, local_start(row.start_at, row.start_date, row.time_zone),
            fields.rrule, local_start(fields.start_at, fields.start_date, fields.time_zone),
        )  # fmt: skip
        kept = kept_on_rule_change(
            row.exdates, row.overrides, link.occurrences if link is not None else None,
            same_rule=same_rule, new_rule=fields.rrule,
            new_start=local_start(fields.start_at, fields.start_date, fields.time_zone),
            tz=fields.time_zone,
            exceptions_outlive_rule=p.provider.capabilities.exceptions_outlive_rule,
        )  # fmt: skip
        cancelled, changed = kept.cancelled, kept.changed
        if link is not None and kept.synced is not None:
            link.occurrences = kept.synced
        if kept.read_again:
            # What the page read of the series' absences went with the reset: the page's
            # end reads them again, against the rule the host now holds.
            p.absences_read.discard(remote.id)
        before = await view.item(row)
        unsynced = before is not None and (
            link is None or before.side.fingerprint != link.host_fingerprint
        )
        view.update_appointment(row, fields)
        if unsynced and (cancelled or changed):
            # A conflict the remote won (or an adoption with no link to compare with):
            # what the host keeps of its occurrences may hold a change of its own not yet
            # on the remote (an occurrence cancelled since the last pass, or never sent).
            # Recording the series without it as synced makes the next push write it
            # out (again, for what the remote had already).
            with view.session.no_autoflush:
                bare = await view.item(row)
            synced_as = bare.event.fingerprint() if bare is not None else None
        if cancelled:
            # Google keeps a cancelled occurrence as an instance of its own, not on the
            # series: a series read again does not list it, and must not undo it.
            row.exdates = overrides.merge_exdates(row.exdates, cancelled)
        for change in changed:
            # Changed occurrences too are instances of their own on both providers.
            row.overrides = overrides.merge(row.overrides, change)
        row.deleted_at = None
        target = row
        p.count(
            Direction.IN, "appointment", Tally.UPDATE if effect is Op.UPDATE_HOST else Tally.RESTORE
        )
    else:
        target = view.create_appointment(fields)
        # The identity map holds rows weakly: keep it while the page may still need it.
        view.session.info.setdefault("prefetched", []).append(target)
        p.count(Direction.IN, EntryKind.APPOINTMENT, Tally.CREATE)
    target.updated_at = utcnow()
    # The host fingerprint is of what the host now holds, mapped the one way the view maps
    # every entry (case included), so the next pass does not mistake it for a change.
    held = await view.item(target)
    host_fingerprint = held.event.fingerprint() if held is not None else ""
    if synced_as is not None and synced_as != host_fingerprint:
        host_fingerprint = synced_as
        # ...through a pending row of the entry's next version, written with the link so
        # that a crash before this pass's push cannot lose it (the ack of the version
        # this write started from leaves it pending).
        mine = frozenset({connection.user_id})
        outbox_rows.record(view.session, target, OutboxOp.UPDATED, mine, (target.version or 0) + 1)
    links.save(
        link, kind=EntryKind.APPOINTMENT, entry_id=target.id, remote_id=remote.id,
        etag=remote.etag, host_fingerprint=host_fingerprint,
        remote_fingerprint=remote.event.fingerprint(), host_version=target.version or 1,
    )  # fmt: skip
