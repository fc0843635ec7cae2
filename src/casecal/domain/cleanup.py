"""Clean-up of a calendar whose sync ended (a seat removed, the subscription cancelled) and
whose firm asked to remove what CaseCal put there. Pure: which linked events CaseCal created."""

from __future__ import annotations

from casecal.domain.entries import EntryKind


def created_here(kind: EntryKind, origin: str | None) -> bool:
    """CaseCal created the remote event of every case entry it pushed, and of appointments
    made in CaseCal (``origin`` ``host``). An appointment imported from that calendar (or one
    whose origin is unknown) is the person's own event and stays."""
    if kind is not EntryKind.APPOINTMENT:
        return True
    return origin == "host"
