"""Whether a case manager's calendar may sync: the firm's Calendar Sync subscription must be
active and the user must hold a seat on it. Pure: the caller reads the facts."""

from __future__ import annotations

import enum

from casecal.domain.connection_status import ConnectionStatus


class Entitlement(enum.StrEnum):
    OK = "ok"
    NO_SEAT = "no_seat"
    NO_SUBSCRIPTION = "no_subscription"


def entitlement(subscription_active: bool | None, has_seat: bool) -> Entitlement:
    """``subscription_active`` is None when the firm has no subscription record at all.

    A cancelled (or merely requested) subscription outranks a missing seat: the seat comes
    back with the subscription. A firm without any subscription record is one whose
    connections were not made through the connect flow (which needs a seat); it is not judged
    here (OK), so the callers only ever pause what a seat or subscription change took away.
    """
    if subscription_active is None:
        return Entitlement.OK
    if not subscription_active:
        return Entitlement.NO_SUBSCRIPTION
    return Entitlement.OK if has_seat else Entitlement.NO_SEAT


REASONS = {
    Entitlement.NO_SEAT: (
        "Paused: your Calendar Sync seat was removed by a firm admin. Nothing was deleted from "
        "your calendar; syncing resumes from where it stopped once you have a seat again."
    ),
    Entitlement.NO_SUBSCRIPTION: (
        "Paused: the firm's Calendar Sync subscription is not active (cancelled). Nothing was "
        "deleted from your calendar; syncing resumes from where it stopped once the "
        "subscription is active again."
    ),
}
"""The ``status_reason`` a paused connection shows its owner and the firm admin."""

PAUSED = {
    Entitlement.NO_SEAT: ConnectionStatus.PAUSED_NO_SEAT,
    Entitlement.NO_SUBSCRIPTION: ConnectionStatus.PAUSED_SUBSCRIPTION,
}
"""The state a connection takes when its owner is not entitled to sync, by verdict."""
PAUSED_STATES = frozenset(PAUSED.values())
SYNCING = frozenset({ConnectionStatus.ACTIVE, ConnectionStatus.PAUSED_DELETIONS})
"""States a seat or subscription change pauses (a paused-for-deletions connection resumes as
active: its next pass meets the guard again). Connections that cannot sync anyway (pending,
needing re-authorisation or consent, disconnected) keep their state, and the engine's gate
stands behind them if they come back."""
