"""Encryption at rest for OAuth tokens: Fernet (AES-128-CBC + HMAC) with key rotation.

Keys come from ``CASECAL_SECRET_KEYS`` (newest first; each secret is stretched with HKDF), or,
when none is set, from a key file created with mode 0600 in the data directory.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casecal.config import Settings
from casecal.errors import CaseCalError

KEY_FILE_NAME = "token-encryption.key"
_INFO = b"casecal token encryption v1"


class DecryptionFailed(CaseCalError):
    """The ciphertext was not made by any of the configured keys, or was altered."""


def derive_key(secret: str) -> bytes:
    """A Fernet key derived from an operator-chosen secret string."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


def load_or_create_key_file(data_dir: Path) -> bytes:
    """The key in ``data_dir``, created (0600, exclusive) on first use."""
    path = data_dir / KEY_FILE_NAME
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


def secret_material(settings: Settings) -> list[str]:
    """The operator's secrets, newest first; the key file's content when none is configured
    (so an embedded install has working secrets without any set-up). The one source of key
    material: token encryption, push channel secrets and the webhook receivers' checks."""
    if settings.secret_keys:
        return list(settings.secret_keys)
    return [load_or_create_key_file(settings.data_dir).decode("ascii")]


class TokenCipher:
    """Encrypts with the newest key; decrypts with any configured key."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        """Keys from ``secret_material``: configured secrets are stretched with HKDF; the key
        file already holds a Fernet key."""
        material = secret_material(settings)
        if settings.secret_keys:
            return cls([derive_key(secret) for secret in material])
        return cls([secret.encode("ascii") for secret in material])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise DecryptionFailed(
                "stored token cannot be decrypted with the configured keys "
                "(was CASECAL_SECRET_KEYS changed without keeping the old key?)"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key (after adding a new key in front)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise DecryptionFailed("stored token cannot be decrypted for rotation") from exc
