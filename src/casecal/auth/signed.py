"""Values the browser carries and gives back unchanged: an HMAC-SHA256 signature per purpose
(a key derived from each configured secret with HKDF, so old secrets still verify after a
rotation) and an expiry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_EXPIRY = re.compile(r"[0-9]{1,12}")
"""Seconds since the epoch, as ``sign`` writes them (ASCII digits, well within int limits)."""


def _key(secret: str, purpose: str) -> bytes:
    info = f"casecal signed value v1: {purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    return _b64(hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest())


def sign(secrets: list[str], purpose: str, payload: str, *, max_age: int) -> str:
    """``payload`` signed with the newest secret, valid for ``max_age`` seconds."""
    body = f"{_b64(payload.encode())}.{int(time.time()) + max_age}"
    return f"{body}.{_mac(secrets[0], purpose, body)}"


def unsign(secrets: list[str], purpose: str, value: str, *, now: float | None = None) -> str | None:
    """The payload of a value signed for ``purpose`` by any configured secret and not expired;
    ``None`` for anything else."""
    parts = value.split(".")
    if len(parts) != 3 or not value.isascii() or not _EXPIRY.fullmatch(parts[1]):
        return None  # a browser may send anything: only ASCII reaches compare_digest and int
    body = f"{parts[0]}.{parts[1]}"
    if not any(hmac.compare_digest(_mac(s, purpose, body), parts[2]) for s in secrets):
        return None
    if int(parts[1]) <= (time.time() if now is None else now):
        return None
    try:
        return _unb64(parts[0]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
