"""Which sign-in budgets an attempt spends (pure; ``casecal.auth.throttle`` counts them in the
database): a known browser's own budget for the accounts its device cookie is bound to, the
client address's and each other account's shared budgets for the rest, the email's when it
has no account."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
ADDRESS_FACTOR = 10
"""An untrusted client address may fail this many times the per-account budget."""
RESETS = 5
"""How often a known browser's own budget may start again (by signing in) in one window."""


def throttle_key(kind: str, subject: str) -> str:
    """The stored key: the SHA-256 of the prefixed subject (no email is stored in clear)."""
    return hashlib.sha256(f"{kind}:{subject}".encode()).hexdigest()


@dataclass(frozen=True)
class Budget:
    key: str
    limit: int
    """Attempts allowed in ``window`` before the key is locked."""
    window: timedelta = WINDOW
    lock: timedelta = WINDOW
    trusted_device: bool = False
    """A known browser's own budget: it starts again when that browser signs in."""


@dataclass(frozen=True)
class Gate:
    """Budgets an attempt spends (all of them, in order) before it may check ``accounts``;
    an email without accounts has one gate with no accounts (a dummy check)."""

    budgets: tuple[Budget, ...]
    accounts: tuple[uuid.UUID, ...] = ()


def gates_for(
    *,
    email: str,
    address: str,
    accounts: Sequence[uuid.UUID],
    device: str | None,
    device_accounts: Collection[uuid.UUID],
    limit: int,
) -> tuple[Gate, ...]:
    """The gates of one attempt: the trusted device's own budget for the accounts it is bound
    to; the address's and each other account's shared budgets for the rest."""
    by_address = Budget(throttle_key("addr", address), limit * ADDRESS_FACTOR)
    if not accounts:
        return (Gate((by_address, Budget(throttle_key("email", email), limit))),)
    trusted = tuple(a for a in accounts if device is not None and a in device_accounts)
    gates = [Gate((by_address, Budget(throttle_key("account", str(a)), limit)), (a,))
             for a in accounts if a not in trusted]  # fmt: skip
    if device is not None and trusted:
        own = Budget(throttle_key("device", device), limit, trusted_device=True)
        gates.insert(0, Gate((own,), trusted))
    return tuple(gates)


def retry_after(locked_until: datetime, now: datetime) -> int:
    """Whole seconds to wait, at least one."""
    return max(1, math.ceil((locked_until - now).total_seconds()))
