"""The state machine's "no change is lost, every conflict has a record, nothing deleted comes
back" checks, on the appointments (two-way) of each case manager.

Every title a user writes to an appointment (a create or a retitle, on the host through the
API, or remotely as another client) is unique in its run, and goes into the ledger as
*pending*. A pending write leaves that state in one of two ways that lose nothing:

- **delivered**: its title was seen on the other side of the same case manager's pair (titles
  being unique, only the sync of that item can have put it there). Seen means whenever the
  test looks: after every pass (crashed or not), just before another client edits mid-pass,
  and at the end. Once delivered, a later edit on either side may replace it: that is sync
  working.
- **withdrawn**: the same side edits or deletes the same target (host entry, remote event)
  while the target still holds that title: the user replaced their own words before any sync
  carried them, which is theirs to do.

After the drain, a write still pending must have its title in a conflict record of that
connection (winner or loser snapshot). Why this is sound: while a write is pending, its
target still holds it unless the engine wrote over it (a user overwrite would have withdrawn
it first), and the engine may only write over a change it has not carried to the other side
when both sides changed, which under every conflict policy stores a record of both versions.
An edit that beats a deletion is carried over (delivered); a pending write whose pair the
other side deleted meanwhile is an edit against a deletion, a conflict. Writes to court-date
events are never entered: host values overwrite them by design.

What it catches: an engine write over a pending change without a record (a "newer wins"
without its loser kept, an update with a stale etag that overwrote a remote edit, a host edit
whose outbox row was lost and that a remote edit then overwrote, ...).

Deletions: a title a user deleted (the target held it when deleted) must be gone from both
sides at the end, unless the other side changed something else of an item holding that title
(a recurrence change: an edit beats a deletion, and the title comes back with it). A title
written on the other side meanwhile is a new title, so it never excuses the deleted one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Side = Literal["host", "remote"]


def _other(side: Side) -> Side:
    return "remote" if side == "host" else "host"


@dataclass
class Write:
    who: int
    """The case manager (connection) whose pair it is."""
    side: Side
    target: str
    """The host entry id or the remote event id the user wrote to."""
    title: str
    state: Literal["pending", "delivered", "withdrawn"] = "pending"


class Ledger:
    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.deleted: set[tuple[int, Side, str]] = set()
        self.touched: set[tuple[int, Side, str]] = set()
        self._serial = 0

    def title(self, word: str, suffix: str = "") -> str:
        """A title no other write of this run uses."""
        self._serial += 1
        return f"{word}{suffix} #{self._serial}"

    # --- what users do ---------------------------------------------------------------------

    def wrote(self, who: int, side: Side, target: str, title: str) -> None:
        self.writes.append(Write(who, side, target, title))

    def overwriting(self, who: int, side: Side, target: str, holds: str) -> None:
        """The user is about to retitle or delete ``target``, which holds the title ``holds``."""
        for write in self._pending(who, side):
            if write.target == target and write.title == holds:
                write.state = "withdrawn"

    def deleting(self, who: int, side: Side, target: str, holds: str) -> None:
        self.overwriting(who, side, target, holds)
        self.deleted.add((who, side, holds))

    def changed_other_fields(self, who: int, side: Side, holds: str) -> None:
        """The user changed something but the title (a recurrence) of an item titled ``holds``."""
        self.touched.add((who, side, holds))

    # --- what the test sees ----------------------------------------------------------------

    def seen(self, who: int, side: Side, titles: Collection[str]) -> None:
        """``titles`` are on ``side`` of ``who``'s calendar pair now."""
        present = set(titles)
        for write in self._pending(who, _other(side)):
            if write.title in present:
                write.state = "delivered"

    # --- the verdicts ----------------------------------------------------------------------

    def lost(self, who: int, recorded: Collection[str]) -> list[Write]:
        """Pending writes of ``who`` whose title no conflict record keeps."""
        kept = set(recorded)
        pending = self._pending(who, "host") + self._pending(who, "remote")
        return [write for write in pending if write.title not in kept]

    def resurrected(self, who: int, final: Collection[str]) -> list[str]:
        """Titles ``who``'s users deleted that are back, with no edit from the other side of
        an item holding them to bring them back."""
        present = set(final)
        return sorted(
            title
            for (owner, side, title) in self.deleted
            if owner == who and title in present and (who, _other(side), title) not in self.touched
        )

    def _pending(self, who: int, side: Side) -> list[Write]:
        return [w for w in self.writes if w.who == who and w.side == side and w.state == "pending"]
