"""One-time links to set a password, for users a firm admin added without one. The link is a
signed value naming the user and a fingerprint of their current password hash, so it stops
working as soon as a password is set (one use) or after ``LINK_DAYS``."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from casecal.auth.encryption import secret_material
from casecal.auth.signed import sign, unsign
from casecal.config import Settings

LINK_DAYS = 7
_PURPOSE = "set password"


@dataclass(frozen=True)
class LinkClaim:
    user_id: uuid.UUID
    fingerprint: str


def fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:32]


def issue(settings: Settings, user_id: uuid.UUID, password_hash: str | None) -> str:
    """The token of a link that sets ``user_id``'s password once."""
    payload = f"{user_id}:{fingerprint(password_hash)}"
    return sign(secret_material(settings), _PURPOSE, payload, max_age=LINK_DAYS * 86400)


def read(settings: Settings, token: str) -> LinkClaim | None:
    """Who the token is for, if it is genuine and unexpired (the caller checks the
    fingerprint against the user's current hash)."""
    payload = unsign(secret_material(settings), _PURPOSE, token) if token else None
    if payload is None:
        return None
    user, _, mark = payload.partition(":")
    try:
        return LinkClaim(uuid.UUID(user), mark)
    except ValueError:
        return None


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/set-password?token={token}"
