"""The state machine's "no change is lost, every conflict has a record" check.

Every title a user writes to an appointment (a create or a retitle, on the host through the
API, or remotely as another client) is unique in its run, and goes into the ledger as
*pending*. A pending write leaves that state in one of two ways that lose nothing:

- **delivered**: its title was seen on the other side of the same case manager's pair (titles
  being unique, only the sync of that item can have put it there). Seen means at any moment
  the test can look: after every pass (crashed or not), just before every user edit, and at
  the end. Once delivered, a later edit on either side may replace it: that is sync working.
- **withdrawn**: the same user side edits or deletes the same target (host entry, remote
  event) while the target still holds that title: the user replaced their own words before
  any sync carried them, which is theirs to do.

After the drain, a write still pending must have its title in a conflict record of that
connection (winner or loser snapshot). Why this is sound: while a write is pending, its
target still holds it unless the engine wrote over it (a user overwrite would have withdrawn
it first), and the engine may only write over a user's change it did not carry to the other
side when both sides changed, which under every conflict policy stores a record with both
versions. An edit that beats a deletion is carried over (delivered); a write deleted by the
other side while pending makes a conflict (edit against deletion). Writes to court-date events
are not two-way and are never entered: host values overwrite them by design.

What it catches: an engine write over a pending change without a record (a "newer wins"
without its loser kept, an update with a stale etag that overwrote a remote edit, a lost
outbox row whose host edit is then overwritten by a remote one, ...)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Side = Literal["host", "remote"]


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
        self._serial = 0

    def title(self, word: str, suffix: str = "") -> str:
        """A title no other write of this run uses."""
        self._serial += 1
        return f"{word}{suffix} #{self._serial}"

    def wrote(self, who: int, side: Side, target: str, title: str) -> None:
        self.writes.append(Write(who, side, target, title))

    def overwriting(self, who: int, side: Side, target: str, holds: str | None) -> None:
        """The user is about to edit or delete ``target``, which holds the title ``holds``."""
        for write in self._pending(who, side):
            if write.target == target and write.title == holds:
                write.state = "withdrawn"

    def seen(self, who: int, side: Side, titles: Collection[str]) -> None:
        """``titles`` are on ``side`` of ``who``'s calendar pair now."""
        present = set(titles)
        other: Side = "remote" if side == "host" else "host"
        for write in self._pending(who, other):
            if write.title in present:
                write.state = "delivered"

    def lost(self, who: int, recorded: Collection[str]) -> list[Write]:
        """Pending writes of ``who`` whose title no conflict record keeps."""
        kept = set(recorded)
        return [w for w in self._pending(who, "host") + self._pending(who, "remote")
                if w.title not in kept]  # fmt: skip

    def _pending(self, who: int, side: Side) -> list[Write]:
        return [w for w in self.writes if w.who == who and w.side == side and w.state == "pending"]
