"""The reconcile decision table, row by row for every direction rule, plus hypothesis properties:
no delete on an unknown read, no echo after applying a plan, host-authoritative convergence, and
conflicts that keep both versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from casecal.domain.entries import EntryKind
from casecal.domain.plan import (
    UNKNOWN,
    Action,
    HostSide,
    LinkState,
    Op,
    RemoteRead,
    RemoteSide,
    Side,
    plan,
)
from casecal.domain.policy import ConflictPolicy, Policy, RemoteDeletes

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
APPT, COURT = EntryKind.APPOINTMENT, EntryKind.COURT_DATE
TWO_WAY = ("two_way", APPT, Policy())
RESTORE = ("restore", COURT, Policy())
RESPECT = ("respect", COURT, Policy(remote_deletes=RemoteDeletes.RESPECT))
RULES = (TWO_WAY, RESTORE, RESPECT)

# Host and remote fingerprints live in different spaces ("h…" / "r…"), as they may in practice
# (a provider normalises what it stores), so the table never depends on them being equal.
LAST_SYNCED = {"host": "h0", "remote": "r0", "etag": "e0"}


def _link(kind: str, tombstoned: bool) -> LinkState:
    return LinkState(kind, "rid", "e0", "h0", "r0", T0 if tombstoned else None)


def _host(kind: str, state: str) -> HostSide | None:
    fingerprint = {"gone": None, "same": "h0", "changed": "h1"}[state]
    return None if fingerprint is None else HostSide(kind, fingerprint, T0, 2)


def _remote(state: str, *, ours: bool = True) -> RemoteRead:
    if state == "unknown":
        return UNKNOWN
    fingerprint = {"gone": None, "same": "r0", "changed": "r1"}[state]
    etag = "e0" if state == "same" else "e1"
    return None if fingerprint is None else RemoteSide(fingerprint, etag, T0 + timedelta(1), ours)


C = "conflict"  # under the default policy "newer wins"; resolutions are checked separately
# (host, remote): expected op for (two-way, host-authoritative restore, host-authoritative respect)
LIVE_TABLE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("gone", "unknown"): ("nothing", "nothing", "nothing"),
    ("gone", "gone"): ("forget", "forget", "forget"),
    ("gone", "same"): ("delete_remote", "delete_remote", "delete_remote"),
    ("gone", "changed"): (C, "delete_remote", "delete_remote"),
    ("same", "unknown"): ("nothing", "nothing", "nothing"),
    ("same", "gone"): ("delete_host", "restore_recreate", "accept_remote_delete"),
    ("same", "same"): ("nothing", "nothing", "nothing"),
    ("same", "changed"): ("update_host", "restore_overwrite", "restore_overwrite"),
    ("changed", "unknown"): ("update_remote", "update_remote", "update_remote"),
    ("changed", "gone"): (C, "restore_recreate", "accept_remote_delete"),
    ("changed", "same"): ("update_remote", "update_remote", "update_remote"),
    ("changed", "changed"): (C, "restore_overwrite", "restore_overwrite"),
}
TOMBSTONED_TABLE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("gone", "unknown"): ("nothing", "nothing", "nothing"),
    ("gone", "gone"): ("nothing", "nothing", "nothing"),
    ("gone", "same"): ("delete_remote", "delete_remote", "delete_remote"),
    ("gone", "changed"): (C, "delete_remote", "delete_remote"),
    ("same", "unknown"): ("nothing", "nothing", "nothing"),
    ("same", "gone"): ("create_remote", "create_remote", "create_remote"),  # undeleted
    ("same", "same"): ("adopt", "adopt", "adopt"),
    ("same", "changed"): ("update_host", "restore_overwrite", "restore_overwrite"),
    ("changed", "unknown"): ("nothing", "nothing", "nothing"),
    ("changed", "gone"): ("create_remote", "create_remote", "create_remote"),
    ("changed", "same"): ("update_remote", "update_remote", "update_remote"),
    ("changed", "changed"): (C, "restore_overwrite", "restore_overwrite"),
}


def test_a_respected_remote_delete_stays_until_the_host_changes() -> None:
    _, kind, policy = RESPECT
    link = replace(_link(kind, True), remote_delete_respected=True)
    assert plan(link, _host(kind, "same"), None, policy).op is Op.NOTHING
    assert plan(link, _host(kind, "changed"), None, policy).op is Op.CREATE_REMOTE
    # The firm switched back to "restore": the event is re-created.
    assert plan(link, _host(kind, "same"), None).op is Op.CREATE_REMOTE


def test_an_event_back_after_a_respected_delete_shows_the_host_values() -> None:
    # The host changed (h1) while the remote delete was accepted; the link then recorded h1
    # with the old remote r0. The old event comes back from the trash unchanged.
    _, kind, policy = RESPECT
    link = LinkState(kind, "rid", "e0", "h1", "r0", T0, remote_delete_respected=True)
    stale = RemoteSide("r0", "e0", T0)
    action = plan(link, _host(kind, "changed"), stale, policy)
    assert action.op is Op.RESTORE_OVERWRITE
    assert action.if_match == "e0"
    agreeing = RemoteSide("h1", "e0", T0)
    assert plan(link, _host(kind, "changed"), agreeing, policy).op is Op.ADOPT


def _rows(
    table: dict[tuple[str, str], tuple[str, str, str]],
) -> list[tuple[str, str, str, str]]:
    return [
        (rule, host, remote, ops[i])
        for (host, remote), ops in table.items()
        for i, (rule, _, _) in enumerate(RULES)
    ]


def _rule(name: str) -> tuple[str, Policy]:
    _, kind, policy = next(r for r in RULES if r[0] == name)
    return kind, policy


@pytest.mark.parametrize(("rule", "host", "remote", "expected"), _rows(LIVE_TABLE))
def test_live_link_table(rule: str, host: str, remote: str, expected: str) -> None:
    kind, policy = _rule(rule)
    action = plan(_link(kind, False), _host(kind, host), _remote(remote), policy)
    assert action.op == expected, action.reason
    assert action.reason


@pytest.mark.parametrize(("rule", "host", "remote", "expected"), _rows(TOMBSTONED_TABLE))
def test_tombstoned_link_table(rule: str, host: str, remote: str, expected: str) -> None:
    kind, policy = _rule(rule)
    action = plan(_link(kind, True), _host(kind, host), _remote(remote), policy)
    assert action.op == expected, action.reason


UNLINKED_TABLE = [
    # (host present, remote read, ours, remote content equals host, two-way op, authoritative op)
    (False, "unknown", True, False, "nothing", "nothing"),
    (False, "gone", True, False, "nothing", "nothing"),
    (False, "changed", True, False, "conflict", "delete_remote"),  # our orphan, copy kept
    (False, "changed", False, False, "create_host", "create_host"),  # foreign event
    (True, "unknown", True, False, "create_remote", "create_remote"),
    (True, "gone", True, False, "create_remote", "create_remote"),
    (True, "changed", True, True, "adopt", "adopt"),  # crash between create and link save
    (True, "changed", True, False, "conflict", "update_remote"),  # adopted, content differs
]


@pytest.mark.parametrize(("present", "remote", "ours", "equal", "two_way", "auth"), UNLINKED_TABLE)
def test_unlinked_table(
    present: bool, remote: str, ours: bool, equal: bool, two_way: str, auth: str
) -> None:
    for kind, expected in ((APPT, two_way), (COURT, auth)):
        read = _remote(remote, ours=ours)
        if ours and isinstance(read, RemoteSide):
            read = replace(read, kind=kind)
        if equal and isinstance(read, RemoteSide):
            read = replace(read, fingerprint="h0")
        action = plan(None, _host(kind, "same") if present else None, read)
        assert action.op == expected, (kind, action.reason)


def test_foreign_event_cannot_pair_with_host_entry_without_link() -> None:
    with pytest.raises(ValueError, match="foreign"):
        plan(None, _host(APPT, "same"), _remote("changed", ours=False))


CONFLICTS = [
    # (host, remote, host newer?, policy, winner, resolution)
    ("changed", "changed", True, ConflictPolicy.NEWER_WINS, Side.HOST, Op.UPDATE_REMOTE),
    ("changed", "changed", False, ConflictPolicy.NEWER_WINS, Side.REMOTE, Op.UPDATE_HOST),
    ("changed", "changed", False, ConflictPolicy.HOST_WINS, Side.HOST, Op.UPDATE_REMOTE),
    ("changed", "changed", True, ConflictPolicy.REMOTE_WINS, Side.REMOTE, Op.UPDATE_HOST),
    ("gone", "changed", True, ConflictPolicy.NEWER_WINS, Side.REMOTE, Op.CREATE_HOST),
    ("gone", "changed", True, ConflictPolicy.HOST_WINS, Side.HOST, Op.DELETE_REMOTE),
    ("gone", "changed", True, ConflictPolicy.REMOTE_WINS, Side.REMOTE, Op.CREATE_HOST),
    ("changed", "gone", False, ConflictPolicy.NEWER_WINS, Side.HOST, Op.CREATE_REMOTE),
    ("changed", "gone", False, ConflictPolicy.HOST_WINS, Side.HOST, Op.CREATE_REMOTE),
    ("changed", "gone", False, ConflictPolicy.REMOTE_WINS, Side.REMOTE, Op.DELETE_HOST),
]


@pytest.mark.parametrize(
    ("host", "remote", "host_newer", "rule", "winner", "resolution"), CONFLICTS
)
def test_conflict_policy(
    host: str, remote: str, host_newer: bool, rule: ConflictPolicy, winner: Side, resolution: Op
) -> None:
    host_side = _host(APPT, host)
    if host_side is not None:
        host_side = replace(host_side, modified=T0 + timedelta(days=2 if host_newer else 0))
    remote_side = _remote(remote)
    action = plan(_link(APPT, False), host_side, remote_side, Policy(conflicts=rule))
    assert action.op is Op.CONFLICT
    assert action.conflict is not None
    assert (action.conflict.winner, action.conflict.resolution) == (winner, resolution)
    assert action.effect is resolution
    assert action.conflict.host == host_side
    assert action.conflict.remote == remote_side
    loser = remote_side if winner is Side.HOST else host_side
    assert action.conflict.loser == loser


def test_newer_wins_tie_goes_to_host() -> None:
    host, remote = HostSide(APPT, "h1", T0, 2), RemoteSide("r1", "e1", T0)
    action = plan(_link(APPT, False), host, remote)
    assert action.conflict is not None
    assert action.conflict.winner is Side.HOST


def test_preconditions_use_the_freshest_etag() -> None:
    link = _link(APPT, False)
    assert plan(link, _host(APPT, "changed"), UNKNOWN).if_match == "e0"
    assert plan(link, _host(APPT, "changed"), RemoteSide("r0", "e9", T0)).if_match == "e9"
    assert plan(link, None, RemoteSide("r0", "e9", T0)).if_match == "e9"
    assert plan(link, _host(APPT, "changed"), None).if_match is None  # a create has none


def test_etag_change_alone_is_no_change() -> None:
    # An attendee's reply or our own write coming back bumps the etag, not the fingerprint.
    action = plan(_link(APPT, False), _host(APPT, "same"), RemoteSide("r0", "e7", T0))
    assert action.op is Op.NOTHING


def test_both_sides_changed_to_the_same_content_is_recorded_not_conflicted() -> None:
    action = plan(_link(APPT, False), HostSide(APPT, "x", T0, 3), RemoteSide("x", "e1", T0))
    assert action.op is Op.ADOPT


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="no direction rule"):
        plan(_link("holiday", False), None, None)


# ---- properties ---------------------------------------------------------------------------

KINDS = st.sampled_from([APPT, COURT, EntryKind.INTERVIEW, EntryKind.STEP_REMINDER])
FPS = st.sampled_from(["a", "b", "c"])
TIMES = st.integers(0, 4).map(lambda m: T0 + timedelta(minutes=m))
POLICIES = st.builds(
    Policy,
    remote_deletes=st.sampled_from(RemoteDeletes),
    conflicts=st.sampled_from(ConflictPolicy),
)
NORMALISERS: st.SearchStrategy[Callable[[str], str]] = st.sampled_from(
    [str, str.upper]
)  # a provider may store content normalised


@st.composite
def pairs(draw: st.DrawFn) -> tuple[LinkState | None, HostSide | None, RemoteSide | None]:
    kind = draw(KINDS)
    link = draw(
        st.none()
        | st.builds(
            LinkState,
            kind=st.just(kind),
            remote_id=st.just("rid"),
            etag=st.sampled_from(["e0", "e1"]),
            host_fingerprint=FPS,
            remote_fingerprint=FPS,
            tombstoned_at=st.none() | st.just(T0),
            remote_delete_respected=st.booleans(),
        )
    )
    host = draw(st.none() | st.builds(HostSide, st.just(kind), FPS, TIMES, st.integers(1, 5)))
    ours = link is not None or draw(st.booleans())
    remote = draw(
        st.none()
        | st.builds(
            RemoteSide,
            FPS,
            st.sampled_from(["e0", "e1"]),
            TIMES,
            st.just(ours),
            st.just(kind if ours else None),
        )
    )
    assume(not (link is None and host is not None and remote is not None and not ours))
    return link, host, remote


def _apply(
    action: Action,
    link: LinkState | None,
    host: HostSide | None,
    remote: RemoteSide | None,
    normalise: Callable[[str], str],
) -> tuple[LinkState | None, HostSide | None, RemoteSide | None]:
    """Carry out ``action`` on a one-pair model, as the engine would, and save the link."""
    kind = host.kind if host else link.kind if link else APPT
    later = T0 + timedelta(hours=1)
    effect = action.effect
    if effect in (Op.CREATE_REMOTE, Op.UPDATE_REMOTE):
        assert host is not None
        remote = RemoteSide(
            normalise(host.fingerprint), "e-new", later, remote.ours if remote else True
        )
    elif effect is Op.DELETE_REMOTE:
        remote = None
    elif effect in (Op.CREATE_HOST, Op.UPDATE_HOST):
        assert remote is not None
        host = HostSide(kind, remote.fingerprint, later, (host.version + 1) if host else 1)
    elif effect is Op.DELETE_HOST:
        host = None
    if action.op is Op.NOTHING or (link is None and host is None and remote is None):
        return link, host, remote
    link = LinkState(
        kind,
        "rid",
        remote.etag if remote else (link.etag if link else None),
        host.fingerprint if host else (link.host_fingerprint if link else ""),
        remote.fingerprint if remote else (link.remote_fingerprint if link else ""),
        None if host and remote else later,
        action.op is Op.ACCEPT_REMOTE_DELETE,
    )
    return link, host, remote


@given(pairs(), POLICIES)
def test_never_deletes_on_an_unknown_read(
    pair: tuple[LinkState | None, HostSide | None, RemoteSide | None], policy: Policy
) -> None:
    link, host, _ = pair
    action = plan(link, host, UNKNOWN, policy)
    assert not action.deletes
    assert action.op not in (Op.FORGET, Op.ACCEPT_REMOTE_DELETE, Op.CREATE_HOST, Op.UPDATE_HOST)


@given(pairs(), POLICIES, NORMALISERS)
def test_applying_the_plan_then_replanning_gives_nothing(
    pair: tuple[LinkState | None, HostSide | None, RemoteSide | None],
    policy: Policy,
    normalise: Callable[[str], str],
) -> None:
    link, host, remote = pair
    action = plan(link, host, remote, policy)
    link, host, remote = _apply(action, link, host, remote, normalise)
    again = plan(link, host, remote, policy)
    assert again.op is Op.NOTHING, (action, again)


@given(pairs(), st.sampled_from(ConflictPolicy), NORMALISERS)
def test_host_authoritative_kinds_converge_to_the_host(
    pair: tuple[LinkState | None, HostSide | None, RemoteSide | None],
    rule: ConflictPolicy,
    normalise: Callable[[str], str],
) -> None:
    link, host, remote = pair
    kind = host.kind if host else link.kind if link else APPT
    assume(kind != APPT)
    if link is not None:  # as last synced, the two sides agreed
        link = replace(link, remote_fingerprint=normalise(link.host_fingerprint))
    if remote is not None:  # the provider only ever holds normalised content
        remote = replace(remote, fingerprint=normalise(remote.fingerprint))
    policy = Policy(conflicts=rule)  # remote deletes restored
    before = host
    for _ in range(2):
        link, host, remote = _apply(plan(link, host, remote, policy), link, host, remote, normalise)
    assert host == before  # the host is never written for these kinds
    if host is None:
        assert remote is None
    else:
        assert remote is not None
        assert remote.fingerprint == normalise(host.fingerprint)


@given(pairs(), POLICIES)
def test_a_conflict_carries_both_versions(
    pair: tuple[LinkState | None, HostSide | None, RemoteSide | None], policy: Policy
) -> None:
    link, host, remote = pair
    action = plan(link, host, remote, policy)
    two_way = not policy.host_authoritative(host.kind if host else link.kind if link else APPT)
    if link is not None and link.tombstoned_at is None and two_way:
        host_moved = host is None or host.fingerprint != link.host_fingerprint
        remote_moved = remote is None or remote.fingerprint != link.remote_fingerprint
        agree = (host is None and remote is None) or (
            host is not None and remote is not None and host.fingerprint == remote.fingerprint
        )
        # Every both-changed case of a two-way entry is a conflict, unless both now agree.
        assert (action.op is Op.CONFLICT) == (host_moved and remote_moved and not agree)
    if action.op is Op.CONFLICT:
        assert action.conflict is not None
        assert (action.conflict.host, action.conflict.remote) == (host, remote)
        assert host is not None or remote is not None
        expected_loser = remote if action.conflict.winner is Side.HOST else host
        assert action.conflict.loser == expected_loser
