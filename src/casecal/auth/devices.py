"""Device cookies (OWASP's defence against sign-in lock-out): a browser that signed in with an
email gets a signed cookie naming that email and a random nonce; on the next attempt for the
same email the nonce picks the browser's own failure budget instead of the email's shared one."""

from __future__ import annotations

import secrets as _random

from casecal.auth.signed import sign, unsign

DEVICE_COOKIE = "casecal_device"
DEVICE_DAYS = 180
_PURPOSE = "sign-in device"


def issue_device(secrets: list[str], email: str) -> str:
    """A new device cookie value for a browser that just signed in as ``email``."""
    payload = f"{email}\n{_random.token_urlsafe(16)}"
    return sign(secrets, _PURPOSE, payload, max_age=DEVICE_DAYS * 86400)


def device_for(secrets: list[str], value: str | None, email: str) -> str | None:
    """The device's nonce when ``value`` is a valid device cookie for ``email``, else ``None``
    (an attempt for another email from the same browser is an untrusted one)."""
    payload = unsign(secrets, _PURPOSE, value) if value else None
    if payload is None:
        return None
    owner, _, nonce = payload.partition("\n")
    return nonce if owner == email and nonce else None
