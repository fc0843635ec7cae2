"""The mass-delete guard: decides whether a pass may carry out the deletions it planned.

A pass that would delete too much of a connection, or that got an empty full listing for a
connection with links, deletes nothing until a person confirms through the API.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Reason(enum.StrEnum):
    OK = "ok"
    NO_DELETIONS = "no_deletions"
    CONFIRMED = "confirmed"
    EMPTY_LISTING = "empty_listing"
    MASS_DELETE = "mass_delete"


@dataclass(frozen=True, slots=True)
class Limits:
    """Trip when a pass deletes more than ``percent`` of the linked events AND at least
    ``minimum`` of them: a small calendar may lose a few events without asking. Integer
    percent keeps the comparison exact."""

    percent: int = 20
    minimum: int = 25

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100 or self.minimum < 0:
            raise ValueError("percent must be within [0, 100] and minimum not negative")


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the planned deletions may go ahead, and why (stored on the sync run)."""

    allowed: bool
    reason: Reason
    message: str
    linked: int
    deletions: int

    @property
    def tripped(self) -> bool:
        return not self.allowed


def review(
    linked: int,
    deletions: int,
    *,
    listed: int | None = None,
    confirmed: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> Verdict:
    """Judge one pass of one connection.

    ``linked`` is the number of live links before the pass, ``deletions`` the deletions it
    planned (both sides). ``listed`` is the size of the remote listing when the pass did a full
    listing (``None`` for an incremental pass). ``confirmed`` is the number of deletions a
    person has confirmed for this connection; a confirmation releases the guard for at most
    that many.
    """
    if linked < 0 or deletions < 0 or confirmed < 0 or (listed is not None and listed < 0):
        raise ValueError("counts cannot be negative")
    if listed == 0 and linked > 0:
        # An empty full listing with links on record is far more often an outage or a wrong
        # calendar than a user who emptied it (docs/design/providers.md): delete nothing,
        # unless someone confirmed that every linked event may go.
        if confirmed >= max(linked, deletions):
            return _verdict(True, Reason.CONFIRMED, "empty listing confirmed", linked, deletions)
        message = f"remote listing is empty but {linked} events are linked; deleting nothing"
        return _verdict(False, Reason.EMPTY_LISTING, message, linked, deletions)
    if deletions == 0:
        return _verdict(True, Reason.NO_DELETIONS, "nothing to delete", linked, deletions)
    if not _too_many(linked, deletions, limits):
        return _verdict(
            True, Reason.OK, f"{deletions} of {linked} within limits", linked, deletions
        )
    if confirmed >= deletions:
        message = f"{deletions} deletions confirmed (up to {confirmed})"
        return _verdict(True, Reason.CONFIRMED, message, linked, deletions)
    message = (
        f"pass would delete {deletions} of {linked} linked events, over the limit"
        f" of {limits.percent}% and at least {limits.minimum}; waiting for confirmation"
    )
    return _verdict(False, Reason.MASS_DELETE, message, linked, deletions)


def _too_many(linked: int, deletions: int, limits: Limits) -> bool:
    return deletions >= limits.minimum and 100 * deletions > limits.percent * linked


def _verdict(allowed: bool, reason: Reason, message: str, linked: int, deletions: int) -> Verdict:
    return Verdict(allowed, reason, message, linked, deletions)
