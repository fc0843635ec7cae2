"""A host store and a remote calendar as dicts, random edits on both, random sync passes that use
only ``plan()`` (with failed reads, crashes between a remote write and the link save, 412s and
resurfacing deleted events), and after each drain: both sides agree under the direction rules,
no remote duplicates, nothing lost, and every both-changed case left a conflict record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from casecal.domain.entries import EntryKind
from casecal.domain.plan import (
    UNKNOWN,
    Action,
    Conflict,
    HostSide,
    LinkState,
    Op,
    RemoteRead,
    RemoteSide,
    plan,
)
from casecal.domain.policy import ConflictPolicy, Policy, RemoteDeletes

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KINDS = [EntryKind.APPOINTMENT, EntryKind.COURT_DATE, EntryKind.STEP_REMINDER]
PICK = st.integers(0, 10_000)


@dataclass
class Entry:
    kind: str
    value: str
    modified: int
    version: int = 1
    in_audience: bool = True


@dataclass
class Event:
    value: str
    etag: str
    modified: int
    tag: str | None  # the host entry id in our tag; None for a foreign event
    tag_kind: str | None = None


@dataclass
class Link:
    host_id: str
    remote_id: str
    kind: str
    etag: str | None
    host_fp: str
    remote_fp: str
    tombstoned: bool = False
    respected: bool = False

    def state(self) -> LinkState:
        return LinkState(
            self.kind,
            self.remote_id,
            self.etag,
            self.host_fp,
            self.remote_fp,
            T0 if self.tombstoned else None,
            self.respected,
        )


@dataclass
class Pair:
    link: Link | None
    host_id: str | None
    remote_id: str | None


@dataclass
class World:
    host: dict[str, Entry] = field(default_factory=dict)
    host_deleted: dict[str, Entry] = field(default_factory=dict)
    remote: dict[str, Event] = field(default_factory=dict)
    remote_deleted: dict[str, Event] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    restores: list[Action] = field(default_factory=list)
    pending: set[str] = field(default_factory=set)
    """Values a user wrote with authority that are not yet on the other side or in a record."""
    clock: int = 0


def _at(tick: int) -> datetime:
    return T0 + timedelta(minutes=tick)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World()
        self.policy = Policy()
        self.crash_armed = False
        self.serial = 0

    # ---- helpers --------------------------------------------------------------------------

    def _tick(self) -> int:
        self.w.clock += 1
        return self.w.clock

    def _new(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def _visible(self, host_id: str | None) -> Entry | None:
        entry = self.w.host.get(host_id) if host_id else None
        return entry if entry is not None and entry.in_audience else None

    def _kind_of_event(self, remote_id: str, event: Event) -> str:
        link = next((lk for lk in self.w.links if lk.remote_id == remote_id), None)
        if link is not None:
            return link.kind
        owner = self.w.host.get(event.tag or "") or self.w.host_deleted.get(event.tag or "")
        return owner.kind if owner else EntryKind.APPOINTMENT

    def _authoritative_on_remote(self, remote_id: str, event: Event) -> bool:
        return not self.policy.host_authoritative(self._kind_of_event(remote_id, event))

    def _pick(self, keys: list[str], pick: int) -> str:
        return sorted(keys)[pick % len(keys)]

    # ---- the policy -----------------------------------------------------------------------

    @initialize(deletes=st.sampled_from(RemoteDeletes), conflicts=st.sampled_from(ConflictPolicy))
    def choose_policy(self, deletes: RemoteDeletes, conflicts: ConflictPolicy) -> None:
        self.policy = Policy(remote_deletes=deletes, conflicts=conflicts)

    # ---- host side ------------------------------------------------------------------------

    @rule(kind=st.sampled_from(KINDS))
    def host_create(self, kind: str) -> None:
        value = self._new("v")
        self.w.host[self._new("h")] = Entry(kind, value, self._tick())
        self.w.pending.add(value)

    @precondition(lambda self: self.w.host)
    @rule(pick=PICK)
    def host_edit(self, pick: int) -> None:
        entry = self.w.host[self._pick(list(self.w.host), pick)]
        self.w.pending.discard(entry.value)  # the user replaced their own value
        entry.value, entry.modified = self._new("v"), self._tick()
        entry.version += 1
        self.w.pending.add(entry.value)

    @precondition(lambda self: self.w.host)
    @rule(pick=PICK)
    def host_delete(self, pick: int) -> None:
        host_id = self._pick(list(self.w.host), pick)
        entry = self.w.host.pop(host_id)
        self.w.pending.discard(entry.value)
        self.w.host_deleted[host_id] = entry

    @precondition(lambda self: self.w.host_deleted)
    @rule(pick=PICK)
    def host_undelete(self, pick: int) -> None:
        host_id = self._pick(list(self.w.host_deleted), pick)
        entry = self.w.host_deleted.pop(host_id)
        entry.modified = self._tick()
        entry.version += 1
        # Not a new value: a delete undone before the next pass is no change to the sync (it
        # compares content), so the entry may still follow a remote delete made meanwhile.
        self.w.host[host_id] = entry

    @precondition(lambda self: self._case_entries())
    @rule(pick=PICK)
    def host_reassign(self, pick: int) -> None:
        """The case is reassigned: its entry leaves (or comes back to) this case manager's
        audience. Appointments follow their owner and are not reassigned here."""
        entry = self.w.host[self._pick(self._case_entries(), pick)]
        entry.in_audience = not entry.in_audience

    def _case_entries(self) -> list[str]:
        return [i for i, e in self.w.host.items() if self.policy.host_authoritative(e.kind)]

    # ---- remote side (another client of the calendar) -------------------------------------

    @rule()
    def remote_create(self) -> None:
        value = self._new("v")
        self.w.remote[self._new("x")] = Event(value, self._new("e"), self._tick(), None)
        self.w.pending.add(value)

    @precondition(lambda self: self.w.remote)
    @rule(pick=PICK)
    def remote_edit(self, pick: int) -> None:
        remote_id = self._pick(list(self.w.remote), pick)
        event = self.w.remote[remote_id]
        self.w.pending.discard(event.value)
        event.value, event.etag, event.modified = self._new("v"), self._new("e"), self._tick()
        if self._authoritative_on_remote(remote_id, event):
            self.w.pending.add(event.value)

    @precondition(lambda self: self.w.remote)
    @rule(pick=PICK)
    def remote_delete(self, pick: int) -> None:
        remote_id = self._pick(list(self.w.remote), pick)
        event = self.w.remote.pop(remote_id)
        self.w.pending.discard(event.value)
        self.w.remote_deleted[remote_id] = event

    @precondition(lambda self: self.w.remote_deleted)
    @rule(pick=PICK)
    def remote_resurfaces(self, pick: int) -> None:
        """A deleted event comes back as it was (stale feed, restored from the trash)."""
        remote_id = self._pick(list(self.w.remote_deleted), pick)
        if remote_id not in self.w.remote:
            self.w.remote[remote_id] = self.w.remote_deleted.pop(remote_id)

    @rule()
    def arm_crash(self) -> None:
        """The next remote write of a pass lands, then the process dies before the link save."""
        self.crash_armed = True

    # ---- sync -----------------------------------------------------------------------------

    @rule(mode=st.sampled_from(["reliable", "failed", "partial"]), data=st.data())
    def sync_pass(self, mode: str, data: st.DataObject) -> None:
        def unknown() -> bool:
            return mode == "failed" or (mode == "partial" and data.draw(st.booleans()))

        self._pass(unknown)

    @rule()
    def drain(self) -> None:
        for _ in range(6):
            if self._pass(lambda: False) == 0:
                break
        else:
            raise AssertionError("no convergence after 6 reliable passes")
        self._check_converged()

    def teardown(self) -> None:
        self.crash_armed = False
        self.drain()

    def _pairs(self) -> list[Pair]:
        """Match links, host entries and remote events as the engine does: by link, then by
        the tag of an unlinked event (also for a link whose own event is gone)."""
        taken = {lk.remote_id for lk in self.w.links}
        tagged = {ev.tag: r for r, ev in sorted(self.w.remote.items()) if r not in taken}
        pairs = []
        for link in self.w.links:
            remote_id = link.remote_id
            if remote_id not in self.w.remote and link.host_id in tagged:
                remote_id = tagged.pop(link.host_id)
                taken.add(remote_id)
            pairs.append(Pair(link, link.host_id, remote_id))
        linked_hosts = {lk.host_id for lk in self.w.links}
        for host_id in sorted(self.w.host):
            if host_id in linked_hosts or self._visible(host_id) is None:
                continue
            mine = sorted(r for r, ev in self.w.remote.items() if ev.tag == host_id)
            match = next((r for r in mine if r not in taken), None)
            if match is not None:
                taken.add(match)
            pairs.append(Pair(None, host_id, match))
        pairs += [Pair(None, None, r) for r in sorted(self.w.remote) if r not in taken]
        return pairs

    def _pass(self, unknown: Callable[[], bool]) -> int:
        """One sync pass; returns the number of actions other than NOTHING."""
        busy = 0
        for pair in self._pairs():
            entry = self._visible(pair.host_id)
            host = (
                HostSide(entry.kind, entry.value, _at(entry.modified), entry.version)
                if entry
                else None
            )
            event = self.w.remote.get(pair.remote_id) if pair.remote_id else None
            remote: RemoteRead = (
                RemoteSide(
                    event.value,
                    event.etag,
                    _at(event.modified),
                    event.tag is not None,
                    event.tag_kind,
                )
                if event
                else None
            )
            reliable = not unknown()
            if not reliable:
                remote = UNKNOWN
            link = pair.link.state() if pair.link else None
            action = plan(link, host, remote, self.policy)
            self._check_action(link, host, remote, action)
            if action.op is not Op.NOTHING:
                busy += 1
            if not self._apply(action, pair, entry, event):
                return busy  # crashed: the rest of the pass never ran
        return busy

    def _check_action(
        self, link: LinkState | None, host: HostSide | None, remote: RemoteRead, action: Action
    ) -> None:
        if remote is UNKNOWN:
            assert not action.deletes, action
            return
        if link is None or link.tombstoned_at is not None:
            return
        kind = host.kind if host else link.kind
        host_moved = host is None or host.fingerprint != link.host_fingerprint
        remote_moved = remote is None or remote.fingerprint != link.remote_fingerprint
        agree = (host is None and remote is None) or (
            host is not None and remote is not None and host.fingerprint == remote.fingerprint
        )
        if not self.policy.host_authoritative(kind):
            # Both changed since the last sync (a deletion is a change): a conflict record.
            assert (action.op is Op.CONFLICT) == (host_moved and remote_moved and not agree)
        elif host is not None and remote_moved and not agree:
            # A remote edit or delete of a host-authoritative entry is restored, or respected.
            assert action.op in (
                Op.RESTORE_OVERWRITE,
                Op.RESTORE_RECREATE,
                Op.ACCEPT_REMOTE_DELETE,
            ), action

    def _apply(self, action: Action, pair: Pair, entry: Entry | None, event: Event | None) -> bool:
        """Perform ``action`` as the engine would; False when the armed crash hit."""
        w = self.w
        host_id, remote_id = pair.host_id, pair.remote_id
        if action.conflict is not None:  # stored before any write, so a crash cannot lose it
            w.conflicts.append(action.conflict)
            for version in (action.conflict.host, action.conflict.remote):
                if version is not None:
                    w.pending.discard(version.fingerprint)
        if action.op in (Op.RESTORE_OVERWRITE, Op.RESTORE_RECREATE):
            w.restores.append(action)
        effect = action.effect
        if effect is Op.CREATE_REMOTE:
            assert entry is not None
            assert host_id is not None
            remote_id = f"cc-{host_id}"  # the id is derived from the entry (I1)
            if remote_id in w.remote:
                return True  # "already exists": nothing saved; a reliable pass adopts it
            event = Event(entry.value, self._new("e"), self._tick(), host_id, entry.kind)
            w.remote[remote_id] = event
            w.remote_deleted.pop(remote_id, None)
            w.pending.discard(entry.value)
        elif effect is Op.UPDATE_REMOTE:
            assert entry is not None
            assert remote_id is not None
            current = w.remote.get(remote_id)
            if current is None or current.etag != action.if_match:
                return True  # 404 / 412: nothing saved; the next pass re-reads and decides
            current.value, current.etag, current.modified = (
                entry.value,
                self._new("e"),
                self._tick(),
            )
            w.pending.discard(entry.value)
        elif effect is Op.DELETE_REMOTE:
            assert remote_id is not None
            current = w.remote.get(remote_id)
            if current is not None:
                if current.etag != action.if_match:
                    return True  # 412
                w.remote_deleted[remote_id] = w.remote.pop(remote_id)
        if action.writes_remote and self.crash_armed:
            self.crash_armed = False
            return False
        # Host writes and the link save share one database transaction.
        if effect is Op.CREATE_HOST:
            assert event is not None
            existing = w.host_deleted.pop(host_id, None) if host_id else None
            if existing is None:  # a new appointment for a foreign event
                host_id = self._new("h")
                existing = Entry(EntryKind.APPOINTMENT, event.value, self._tick())
            else:  # the deleted linked entry comes back (its tombstone cleared) with the edit
                existing.value, existing.modified = event.value, self._tick()
                existing.version += 1
            assert host_id is not None
            w.host[host_id] = existing
            w.pending.discard(event.value)
        elif effect is Op.UPDATE_HOST:
            assert entry is not None
            assert event is not None
            entry.value, entry.modified = event.value, self._tick()
            entry.version += 1
            w.pending.discard(event.value)
        elif effect is Op.DELETE_HOST:
            assert host_id is not None
            w.host_deleted[host_id] = w.host.pop(host_id)
        if action.op is not Op.NOTHING:
            self._save_link(action, pair, host_id, remote_id)
        return True

    def _save_link(
        self, action: Action, pair: Pair, host_id: str | None, remote_id: str | None
    ) -> None:
        entry = self._visible(host_id)
        event = self.w.remote.get(remote_id) if remote_id else None
        link = pair.link
        if link is None:
            if host_id is None or remote_id is None:
                return  # nothing to link (an orphan was removed)
            kind = entry.kind if entry else EntryKind.APPOINTMENT
            link = Link(host_id, remote_id, kind, None, "", "")
            self.w.links.append(link)
        link.host_id, link.remote_id = host_id or link.host_id, remote_id or link.remote_id
        if entry is not None:
            link.kind, link.host_fp = entry.kind, entry.value
        if event is not None:
            link.remote_fp, link.etag = event.value, event.etag
        link.tombstoned = entry is None or event is None
        link.respected = action.op is Op.ACCEPT_REMOTE_DELETE

    # ---- the checks after a drain ---------------------------------------------------------

    def _check_converged(self) -> None:
        w = self.w
        by_host = {lk.host_id: lk for lk in w.links}
        by_remote = {lk.remote_id: lk for lk in w.links}
        assert len(by_host) == len(w.links), "two links for one host entry"
        assert len(by_remote) == len(w.links), "two links for one remote event"
        for host_id, entry in w.host.items():
            link = by_host.get(host_id)
            if not entry.in_audience:
                assert link is None or link.remote_id not in w.remote, "left audience, still there"
                continue
            assert link is not None, f"{host_id} never linked"
            if link.tombstoned:
                # Only a respected remote delete of a host-authoritative entry may stay.
                assert link.respected
                assert self.policy.respects_remote_deletes(entry.kind)
                assert link.remote_id not in w.remote
                continue
            assert w.remote[link.remote_id].value == entry.value, "sides disagree"
        for remote_id, event in w.remote.items():
            link = by_remote.get(remote_id)
            assert link is not None, f"{remote_id} orphaned or duplicate"
            assert not link.tombstoned, f"{remote_id} kept after its link was settled"
            assert self._visible(link.host_id) is not None
            assert w.host[link.host_id].value == event.value
        current = {e.value for e in w.host.values()} | {e.value for e in w.remote.values()}
        lost = w.pending - current
        assert not lost, f"changes lost: {lost}"


TestSyncStateMachine = SyncMachine.TestCase
