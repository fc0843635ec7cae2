"""The reconcile decision: one link's last-synced state and both current sides in, one Action out.

Pure: no I/O and no clock. The engine performs the action; docs/design/reconcile.md has the table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from casecal.domain.entries import EntryKind
from casecal.domain.policy import DEFAULT_POLICY, ConflictPolicy, Policy

APPOINTMENT: Final = EntryKind.APPOINTMENT


class Unknown(enum.Enum):
    """The remote side could not be read reliably (failed or partial listing)."""

    UNKNOWN = "unknown"


UNKNOWN: Final = Unknown.UNKNOWN


@dataclass(frozen=True, slots=True)
class LinkState:
    """A link as last saved. ``tombstoned_at`` is set once the pair was settled as deleted on
    at least one side; the row is kept (30 days) so a deleted event that resurfaces is
    recognised instead of re-imported. ``remote_delete_respected`` marks a tombstone left by
    ACCEPT_REMOTE_DELETE, as opposed to a deletion the sync carried out itself."""

    kind: str
    remote_id: str
    etag: str | None
    host_fingerprint: str
    remote_fingerprint: str
    tombstoned_at: datetime | None = None
    remote_delete_respected: bool = False


@dataclass(frozen=True, slots=True)
class HostSide:
    """A host entry as it is now, in this connection's audience."""

    kind: str
    fingerprint: str
    modified: datetime
    version: int


@dataclass(frozen=True, slots=True)
class RemoteSide:
    """A remote event as it is now. ``ours`` is true when it carries this connection's tag;
    ``kind`` is the entry kind that tag names (``None`` for a foreign event)."""

    fingerprint: str
    etag: str | None
    modified: datetime
    ours: bool = False
    kind: str | None = None


RemoteRead = RemoteSide | None | Literal[Unknown.UNKNOWN]


class Op(enum.StrEnum):
    NOTHING = "nothing"
    CREATE_REMOTE = "create_remote"
    UPDATE_REMOTE = "update_remote"
    DELETE_REMOTE = "delete_remote"
    CREATE_HOST = "create_host"
    UPDATE_HOST = "update_host"
    DELETE_HOST = "delete_host"
    RESTORE_OVERWRITE = "restore_overwrite"
    """Host-authoritative entry edited remotely: write the host values over it (logged)."""
    RESTORE_RECREATE = "restore_recreate"
    """Host-authoritative entry deleted remotely: create it again (logged)."""
    ACCEPT_REMOTE_DELETE = "accept_remote_delete"
    """Host-authoritative entry deleted remotely and the firm respects that: tombstone the link,
    marked ``remote_delete_respected``."""
    CONFLICT = "conflict"
    """Both sides changed: store a conflict record, then perform ``Conflict.resolution``."""
    ADOPT = "adopt"
    """Both sides already agree: save the link with their current state, write nothing."""
    FORGET = "forget"
    """Both sides are gone: tombstone the link."""


class Side(enum.StrEnum):
    HOST = "host"
    REMOTE = "remote"


_REMOTE_WRITES: Final = {
    Op.CREATE_REMOTE: Op.CREATE_REMOTE,
    Op.UPDATE_REMOTE: Op.UPDATE_REMOTE,
    Op.DELETE_REMOTE: Op.DELETE_REMOTE,
    Op.RESTORE_OVERWRITE: Op.UPDATE_REMOTE,
    Op.RESTORE_RECREATE: Op.CREATE_REMOTE,
}
_HOST_WRITES: Final = frozenset({Op.CREATE_HOST, Op.UPDATE_HOST, Op.DELETE_HOST})


@dataclass(frozen=True, slots=True)
class Conflict:
    """Both versions of a pair that changed on both sides (``None``: that side deleted it), the
    winner chosen by the policy, and the write that applies the winner to the other side."""

    winner: Side
    resolution: Op
    host: HostSide | None
    remote: RemoteSide | None

    @property
    def loser(self) -> HostSide | RemoteSide | None:
        """The version the conflict record keeps so the user can restore it."""
        return self.remote if self.winner is Side.HOST else self.host


@dataclass(frozen=True, slots=True)
class Action:
    """What to do with one pair. Every op but NOTHING ends with the engine saving the link from
    the sides as they are after the write (tombstoned when either side is then absent); a
    CONFLICT's record is stored before its write, so a crash cannot lose the losing version."""

    op: Op
    reason: str
    if_match: str | None = None
    """The etag / changeKey precondition for a remote update or delete."""
    conflict: Conflict | None = None

    @property
    def effect(self) -> Op:
        """The plain write this action performs (a conflict's resolution, a restore's write)."""
        if self.conflict is not None:
            return self.conflict.resolution
        return _REMOTE_WRITES.get(self.op, self.op)

    @property
    def writes_remote(self) -> bool:
        return self.effect in _REMOTE_WRITES

    @property
    def writes_host(self) -> bool:
        return self.effect in _HOST_WRITES

    @property
    def deletes(self) -> bool:
        """True when the action deletes something (what the mass-delete guard counts)."""
        return self.effect in (Op.DELETE_REMOTE, Op.DELETE_HOST)


def plan(
    link: LinkState | None,
    host: HostSide | None,
    remote: RemoteRead,
    policy: Policy = DEFAULT_POLICY,
) -> Action:
    """Decide the one action for a pair.

    ``host`` is ``None`` when the entry is gone (tombstoned) or not in this connection's
    audience. ``remote`` is ``None`` only when a reliable read says the event is gone, and
    ``UNKNOWN`` when the read failed or was partial: then nothing is ever deleted.
    """
    if link is None:
        return _unlinked(host, remote, policy)
    if link.tombstoned_at is not None:
        return _tombstoned(link, host, remote, policy)
    return _linked(link, host, remote, policy)


def _unlinked(host: HostSide | None, remote: RemoteRead, policy: Policy) -> Action:
    if host is None:
        if remote is None or remote is UNKNOWN:
            # Nothing on the host and nothing (known) remotely: there is no pair to act on.
            return Action(Op.NOTHING, "no link and no event on either side")
        if not remote.ours:
            # A foreign event we have never seen: it becomes an appointment of the case manager.
            return Action(Op.CREATE_HOST, "new remote event becomes an appointment")
        # Our tag but no link and no host entry for it here: a leftover of a create whose entry
        # was deleted or left this audience before the link was saved. It is ours: remove it.
        if policy.host_authoritative(remote.kind or APPOINTMENT):
            return Action(Op.DELETE_REMOTE, "tagged event has no host entry here", remote.etag)
        # With no last-synced state we cannot tell whether someone edited it since our create,
        # so a two-way event is removed as a conflict the host's deletion wins: the record
        # keeps the remote version, restorable, and a deleted entry does not come back.
        return Action(
            Op.CONFLICT,
            "tagged event has no host entry here; copy kept",
            remote.etag,
            Conflict(Side.HOST, Op.DELETE_REMOTE, None, remote),
        )
    if remote is None or remote is UNKNOWN:
        # A host entry never pushed. Even if an earlier create did land unseen, the create is
        # keyed by (connection, entry) and finds that event instead of making a second (I1).
        return Action(Op.CREATE_REMOTE, "host entry not yet on the remote calendar")
    if not remote.ours:
        raise ValueError("a foreign remote event can only be paired with a host entry by a link")
    if host.fingerprint == remote.fingerprint:
        # Crash between create and link save, or links lost before a full resync: the event we
        # made is already there with the host's content. Relink without creating anything.
        return Action(Op.ADOPT, "tagged remote event matches its host entry; relink")
    if policy.host_authoritative(host.kind):
        # Adopted, but the content differs and the host is authoritative: push the host values.
        return Action(Op.UPDATE_REMOTE, "adopted event differs; host is authoritative", remote.etag)
    # Adopted with different content and no last-synced state to tell which side moved: treat
    # it as a change on both sides, so the policy decides and the other version is kept.
    return _conflict(host, remote, policy, "adopted event differs from its host entry")


def _linked(link: LinkState, host: HostSide | None, remote: RemoteRead, policy: Policy) -> Action:
    authoritative = policy.host_authoritative(host.kind if host else link.kind)
    host_changed = host is not None and host.fingerprint != link.host_fingerprint
    if remote is UNKNOWN:
        if host_changed:
            # The host change can go out now: the If-Match on the last-synced etag turns an
            # unseen remote edit into a 412 (re-read, then decide) instead of overwriting it.
            return Action(Op.UPDATE_REMOTE, "host changed; remote unread", link.etag)
        # Host gone or unchanged: a delete, or anything inferred from the remote, must wait for
        # a reliable read. A failed listing never deletes.
        return Action(Op.NOTHING, "remote side unknown; nothing may be inferred from it")
    if host is None:
        return _host_gone(link, remote, authoritative, policy)
    if remote is None:
        if policy.respects_remote_deletes(host.kind):
            # The firm leaves remote deletes of host-authoritative entries alone.
            return Action(Op.ACCEPT_REMOTE_DELETE, "remote delete respected by firm setting")
        if authoritative:
            # Host-authoritative: a remote delete is undone (logged).
            return Action(Op.RESTORE_RECREATE, "host-authoritative entry deleted remotely")
        if not host_changed:
            # Deleted remotely, untouched on the host: delete on the host.
            return Action(Op.DELETE_HOST, "remote event deleted; host untouched")
        # Deleted remotely, edited on the host: both changed, the policy decides.
        return _conflict(host, None, policy, "host edited, remote deleted")
    remote_changed = remote.fingerprint != link.remote_fingerprint
    return _both_present(host, remote, host_changed, remote_changed, authoritative, policy)


def _host_gone(
    link: LinkState, remote: RemoteSide | None, authoritative: bool, policy: Policy
) -> Action:
    if remote is None:
        # Gone on both sides (deleted on both, or our delete landed before a crash).
        return Action(Op.FORGET, "gone on both sides")
    if remote.fingerprint == link.remote_fingerprint:
        # Deleted (or left the audience) on the host, untouched remotely: delete remotely.
        return Action(Op.DELETE_REMOTE, "host entry gone; remote untouched", remote.etag)
    if authoritative:
        # Host-authoritative: the host deletion stands and the remote edit has no say.
        return Action(
            Op.DELETE_REMOTE, "host entry gone; remote edit not authoritative", remote.etag
        )
    # Deleted on the host, edited remotely: both changed, the policy decides.
    return _conflict(None, remote, policy, "host deleted, remote edited")


def _both_present(
    host: HostSide,
    remote: RemoteSide,
    host_changed: bool,
    remote_changed: bool,
    authoritative: bool,
    policy: Policy,
) -> Action:
    if not host_changed and not remote_changed:
        # Same fingerprints as last synced, whatever the etag says (an attendee's reply or our
        # own write coming back through the change feed): no change, no echo (I2).
        return Action(Op.NOTHING, "unchanged on both sides")
    if host.fingerprint == remote.fingerprint:
        # Something moved but both sides now hold the same content: just record it.
        return Action(Op.ADOPT, "both sides already agree")
    if not remote_changed:
        # Changed on the host only: push it, guarded by the etag we just read.
        return Action(Op.UPDATE_REMOTE, "host changed", remote.etag)
    if authoritative:
        # A remote edit of a host-authoritative entry (host changed or not) is overwritten.
        return Action(Op.RESTORE_OVERWRITE, "host-authoritative entry edited remotely", remote.etag)
    if not host_changed:
        # Changed remotely only: apply it to the host entry.
        return Action(Op.UPDATE_HOST, "remote changed")
    # Changed on both sides to different content: the policy decides, the loser is kept.
    return _conflict(host, remote, policy, "changed on both sides")


def _tombstoned(
    link: LinkState, host: HostSide | None, remote: RemoteRead, policy: Policy
) -> Action:
    authoritative = policy.host_authoritative(host.kind if host else link.kind)
    if remote is UNKNOWN:
        # A settled pair is only reopened on a reliable read.
        return Action(Op.NOTHING, "tombstoned link; remote side unknown")
    if host is None:
        if remote is None:
            # Still gone on both sides: the tombstone already says so.
            return Action(Op.NOTHING, "tombstoned link; gone on both sides")
        if authoritative or remote.fingerprint == link.remote_fingerprint:
            # A deleted event came back unchanged (stale feed, failed delete, restored from the
            # trash) or it is host-authoritative: deleted events must not come back.
            return Action(Op.DELETE_REMOTE, "deleted event resurfaced", remote.etag)
        # It came back with an edit after the deletion: deletion against edit, policy decides.
        return _conflict(None, remote, policy, "deleted event resurfaced with an edit")
    if remote is None:
        if (
            link.remote_delete_respected
            and policy.respects_remote_deletes(host.kind)
            and host.fingerprint == link.host_fingerprint
        ):
            # The respected remote delete still stands: nothing new to push.
            return Action(Op.NOTHING, "remote delete respected; host unchanged since")
        # The host entry exists again (undeleted, back in the audience), changed since the
        # remote delete was respected, or the firm now restores: push it as a new event.
        return Action(Op.CREATE_REMOTE, "host entry present again; re-create remotely")
    if link.remote_delete_respected:
        # The event is back after a respected delete. The link holds the host as it was when
        # the delete was accepted, not a synced pair, so it is no base: show the host values.
        if host.fingerprint == remote.fingerprint:
            return Action(Op.ADOPT, "respected delete undone remotely; sides agree")
        return Action(Op.RESTORE_OVERWRITE, "respected delete undone remotely", remote.etag)
    # Both sides exist again: decide as for a live link; if nothing differs, just clear the
    # tombstone so the pair is live again.
    action = _linked(link, host, remote, policy)
    if action.op is Op.NOTHING:
        return Action(Op.ADOPT, "both sides present again; clear the tombstone")
    return action


def _conflict(host: HostSide | None, remote: RemoteSide | None, policy: Policy, why: str) -> Action:
    winner = _winner(host, remote, policy.conflicts)
    if winner is Side.HOST:
        # Host wins: make the remote side match the host (gone, new, or updated).
        resolution = (
            Op.DELETE_REMOTE
            if host is None
            else Op.CREATE_REMOTE
            if remote is None
            else Op.UPDATE_REMOTE
        )
    else:
        # Remote wins: make the host side match the remote (gone, new, or updated).
        resolution = (
            Op.DELETE_HOST if remote is None else Op.CREATE_HOST if host is None else Op.UPDATE_HOST
        )
    if_match = remote.etag if remote is not None and resolution in _REMOTE_WRITES else None
    conflict = Conflict(winner, resolution, host, remote)
    return Action(
        Op.CONFLICT, f"{why}; {winner.value} wins ({policy.conflicts.value})", if_match, conflict
    )


def _winner(host: HostSide | None, remote: RemoteSide | None, rule: ConflictPolicy) -> Side:
    return winner(rule, host.modified if host else None, remote.modified if remote else None)


def winner(rule: ConflictPolicy, host: datetime | None, remote: datetime | None) -> Side:
    """Which side of a pair (or of one occurrence of a series) that changed on both sides
    wins; ``host`` / ``remote`` are the times of the two edits, None for a deletion."""
    if rule is ConflictPolicy.HOST_WINS:
        return Side.HOST
    if rule is ConflictPolicy.REMOTE_WINS:
        return Side.REMOTE
    # Newer wins. A deletion carries no trustworthy time (Graph's delta only says "removed"),
    # so an edit beats a deletion and nothing the user typed is thrown away; otherwise the
    # later edit wins and a tie goes to the host, the system of record.
    if host is None:
        return Side.REMOTE
    if remote is None:
        return Side.HOST
    return Side.REMOTE if remote > host else Side.HOST
