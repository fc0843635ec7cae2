"""A CalDAV account's credentials as CaseCal keeps them: server URL, username and app
password in one value, encrypted with the token cipher (the connection's
``refresh_token_enc``, where the OAuth providers keep their refresh token). The password is
never in a repr, a log line or an error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from casecal.auth.encryption import TokenCipher
from casecal.errors import ValidationFailed


@dataclass(frozen=True)
class CalDavCredentials:
    server_url: str
    username: str
    password: str = field(repr=False)

    def seal(self, cipher: TokenCipher) -> str:
        """The encrypted value to store."""
        body = {"v": 1, "url": self.server_url, "user": self.username, "password": self.password}
        return cipher.encrypt(json.dumps(body, separators=(",", ":")))

    @classmethod
    def open(cls, cipher: TokenCipher, sealed: str) -> CalDavCredentials:
        """The credentials of a stored value (``DecryptionFailed`` with the wrong keys)."""
        try:
            body = json.loads(cipher.decrypt(sealed))
            return cls(str(body["url"]), str(body["user"]), str(body["password"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed("the stored CalDAV credentials are unreadable") from exc
