"""What happens to a series' own occurrences (cancelled ones, and ones changed on their
own) when the sync brings news of the series: a new rule from the remote, a changed
occurrence, cancelled occurrences. Pure values: the sync carries them out.

``synced`` is what the link records per occurrence (``Link.occurrences``: the digest of
each occurrence changed on its own, or ``overrides.CANCELLED``, as both sides last held
it); ``exdates`` and ``held`` are what the host holds (``Appointment.exdates`` and
``Appointment.overrides``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from casecal.domain import overrides
from casecal.domain.occurrences import occurrence_keys
from casecal.domain.plan import Side, winner
from casecal.domain.policy import ConflictPolicy
from casecal.domain.recurrence import EventTime, time_key


@dataclass(frozen=True, slots=True)
class Kept:
    """What the host keeps of its series' own occurrences when the remote's series is
    written over it, and what the link then records of them (None: unchanged)."""

    cancelled: list[str]
    changed: list[overrides.Stored]
    synced: dict[str, str] | None
    read_again: bool = False
    """The new rule reset occurrences the host held (the provider's exceptions do not
    outlive a rule): what the remote holds of them now has to be read again against the
    new rule. On Graph a cancellation made after the rule changed, read by its absence
    before the series was taken, was reset with the rest and is only heard again so."""


def kept_on_rule_change(
    exdates: Sequence[str],
    held: Sequence[overrides.Stored],
    synced: Mapping[str, str] | None,
    *,
    same_rule: bool,
    new_rule: str | None,
    new_start: EventTime | None,
    tz: str,
    exceptions_outlive_rule: bool,
) -> Kept:
    """While the rule stays, the host keeps every cancelled and changed occurrence (each is
    an instance of its own on the remote, which a series read again does not list). A new
    rule resets them (Graph then shows the real cancellations by their absence again),
    unless the provider keeps the exceptions the new rule still has; then exactly those
    stay. What the new rule dropped is no longer held on either side: the link forgets it,
    so a later cancellation of that occurrence is news, not an echo. Whatever a reset
    dropped, the remote's occurrences are read again after it (``Kept.read_again``)."""
    if same_rule:
        return Kept(list(exdates), list(held), None)
    cancelled: list[str] = []
    changed: list[overrides.Stored] = []
    if new_rule and exceptions_outlive_rule:
        assert new_start is not None
        slots = [overrides.parse_time(x) for x in exdates] + [
            overrides.parse_time(x["original_start"]) for x in held
        ]
        kept = occurrence_keys(new_rule, new_start, tz, slots)
        cancelled = [x for x in exdates if time_key(overrides.parse_time(x)) in kept]
        changed = [x for x in held if overrides.slot(x) in kept]
    # Without exceptions that outlive a rule, nothing is kept: anything held was reset.
    read_again = not exceptions_outlive_rule and bool(exdates or held)
    if not synced:
        return Kept(cancelled, changed, None, read_again)
    still = {time_key(overrides.parse_time(x)) for x in cancelled}
    still |= {overrides.slot(x) for x in changed}
    return Kept(cancelled, changed, {k: v for k, v in synced.items() if k in still}, read_again)


class News(enum.Enum):
    """What an occurrence changed on its own on the remote means for the host."""

    ECHO = "echo"
    """The remote holds what was last synced (our own write coming back): nothing to do."""
    SAME = "same"
    """Both sides made the same change: only the link records it."""
    TAKE = "take"
    """Only the remote changed it: the host takes the change."""
    CONFLICT_HOST_WINS = "conflict_host_wins"
    """Both changed it, differently; the host's version stays (the push writes it out)."""
    CONFLICT_REMOTE_WINS = "conflict_remote_wins"
    """Both changed it, differently; the host takes the remote's version."""

    @property
    def conflict(self) -> bool:
        return self in (News.CONFLICT_HOST_WINS, News.CONFLICT_REMOTE_WINS)

    @property
    def takes(self) -> bool:
        return self in (News.TAKE, News.CONFLICT_REMOTE_WINS)


@dataclass(frozen=True, slots=True)
class Incoming:
    """The decision on one incoming occurrence change, and the state it leaves."""

    news: News
    held: overrides.Stored | None
    """The host's own override of that occurrence before the change (None: it has none)."""
    synced: dict[str, str]
    """What the link records per occurrence afterwards."""
    overrides: list[overrides.Stored]
    """The host's overrides afterwards."""


def incoming_change(
    change: overrides.Stored,
    synced: Mapping[str, str],
    held: Sequence[overrides.Stored],
    *,
    conflicts: ConflictPolicy,
    host_time: datetime | None,
    remote_time: datetime,
) -> Incoming:
    """An occurrence of a linked series changed on its own remotely (``change``, as the
    host stores it), against the link's record (``synced``) and the host's overrides
    (``held``; ``host_time`` is when the host's series last changed). The host changed the
    occurrence since the last sync when what it holds differs from what the link recorded:
    then the firm's policy decides who wins (an edit beats a removal)."""
    slot, incoming = overrides.slot(change), overrides.digest(change)
    if synced.get(slot) == incoming:
        return Incoming(News.ECHO, None, dict(synced), list(held))
    after = {**synced, slot: incoming}
    mine = next((x for x in held if overrides.slot(x) == slot), None)
    if mine == change:
        return Incoming(News.SAME, mine, after, list(held))
    news = News.TAKE
    if (overrides.digest(mine) if mine is not None else None) != synced.get(slot):
        won = winner(conflicts, host_time if mine is not None else None, remote_time)
        news = News.CONFLICT_HOST_WINS if won is Side.HOST else News.CONFLICT_REMOTE_WINS
    kept = overrides.merge(list(held), change) if news.takes else list(held)
    return Incoming(news, mine, after, kept)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What cancellations of a linked series' occurrences leave on the host and the link."""

    exdates: list[str]
    overrides: list[overrides.Stored]
    synced: dict[str, str]
    added: int
    """How many occurrences the host now holds cancelled that it did not."""


def cancellation_news(missing: Sequence[EventTime], synced: Mapping[str, str]) -> list[EventTime]:
    """The occurrences of ``missing`` (cancelled on the remote, or left out of its listing)
    that are news: one both sides already held cancelled is not (the host may have brought
    it back since, its write going out next, and the echo must not undo that)."""
    return [m for m in missing if synced.get(time_key(m)) != overrides.CANCELLED]


def cancelled_on_host(
    news: Sequence[EventTime],
    exdates: Sequence[str],
    held: Sequence[overrides.Stored],
    synced: Mapping[str, str],
) -> Cancelled:
    """The host cancels the occurrences of ``news`` (dropping its own changes of them, when
    any is new to it) and the link records them as cancelled on both sides."""
    gone = {time_key(m) for m in news}
    after = {**synced, **dict.fromkeys(gone, overrides.CANCELLED)}
    merged = overrides.merge_exdates(list(exdates), [m.isoformat() for m in news])
    added = len(merged) - len(exdates)
    if added == 0:
        return Cancelled(list(exdates), list(held), after, 0)
    kept = [o for o in held if overrides.slot(o) not in gone]
    return Cancelled(merged, kept, after, added)
