"""Device cookies (OWASP's defence against sign-in lock-out): a browser that signed in gets a
signed cookie naming the email, a random nonce and the accounts it signed in to; when it next
checks a password against one of those accounts the nonce picks the browser's own budget
instead of the account's shared one. Any other account of that email is an untrusted check."""

from __future__ import annotations

import secrets as _random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from casecal.auth.signed import sign, unsign

DEVICE_COOKIE = "casecal_device"
DEVICE_DAYS = 180
_PURPOSE = "sign-in device v2"  # v1 cookies named no account: they are no longer trusted
MAX_ACCOUNTS = 10
"""Accounts one cookie remembers (the newest); an address rarely has more than a few."""


@dataclass(frozen=True)
class Device:
    nonce: str
    accounts: frozenset[uuid.UUID]


def issue_device(
    secrets: list[str], email: str, accounts: Iterable[uuid.UUID], known: Device | None = None
) -> str:
    """The device cookie for a browser that just signed in as ``email`` to ``accounts``; a
    browser already known for that email keeps its nonce (and budget) and adds the accounts."""
    nonce = known.nonce if known else _random.token_urlsafe(16)
    ids = list(dict.fromkeys([*accounts, *(known.accounts if known else ())]))[:MAX_ACCOUNTS]
    payload = "\n".join([email, nonce, ",".join(str(i) for i in ids)])
    return sign(secrets, _PURPOSE, payload, max_age=DEVICE_DAYS * 86400)


def device_for(secrets: list[str], value: str | None, email: str) -> Device | None:
    """The device when ``value`` is a valid device cookie for ``email``, else ``None`` (an
    attempt for another email from the same browser is an untrusted one)."""
    payload = unsign(secrets, _PURPOSE, value) if value else None
    parts = payload.split("\n") if payload else []
    if len(parts) != 3 or parts[0] != email or not parts[1]:
        return None
    try:
        accounts = frozenset(uuid.UUID(part) for part in parts[2].split(",") if part)
    except ValueError:
        return None
    return Device(parts[1], accounts)
