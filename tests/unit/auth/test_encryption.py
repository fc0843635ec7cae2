"""Tokens are encrypted at rest, keys rotate, and the key file is private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from casecal.auth.encryption import (
    KEY_FILE_NAME,
    DecryptionFailed,
    TokenCipher,
    derive_key,
)
from casecal.config import Settings

REFRESH_TOKEN = "1//0gRefreshTokenValue-with-symbols_+/="


def test_round_trip_hides_the_plaintext() -> None:
    cipher = TokenCipher([derive_key("k1")])
    sealed = cipher.encrypt(REFRESH_TOKEN)
    assert REFRESH_TOKEN not in sealed
    assert cipher.encrypt(REFRESH_TOKEN) != sealed  # random IV: no equality leak
    assert cipher.decrypt(sealed) == REFRESH_TOKEN


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key() -> None:
    old = TokenCipher([derive_key("old")])
    sealed_old = old.encrypt(REFRESH_TOKEN)
    both = TokenCipher([derive_key("new"), derive_key("old")])
    assert both.decrypt(sealed_old) == REFRESH_TOKEN
    rotated = both.rotate(sealed_old)
    new_only = TokenCipher([derive_key("new")])
    assert new_only.decrypt(rotated) == REFRESH_TOKEN
    with pytest.raises(DecryptionFailed, match="CASECAL_SECRET_KEYS"):
        new_only.decrypt(sealed_old)


def test_tampered_ciphertext_is_refused() -> None:
    cipher = TokenCipher([derive_key("k1")])
    sealed = cipher.encrypt(REFRESH_TOKEN)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(tampered)


def test_settings_keys_win_over_the_key_file(tmp_path: Path) -> None:
    cipher = TokenCipher.from_settings(Settings(data_dir=tmp_path, secret_keys=["s"]))
    assert TokenCipher([derive_key("s")]).decrypt(cipher.encrypt("x")) == "x"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_key_file_is_created_private_once_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_keys=[])
    first = TokenCipher.from_settings(settings)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = first.encrypt(REFRESH_TOKEN)
    second = TokenCipher.from_settings(settings)
    assert second.decrypt(sealed) == REFRESH_TOKEN
