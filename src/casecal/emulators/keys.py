"""RSA signing keys for the emulated identity providers: JWKS and RS256 id_tokens (joserfc)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import Key, KeySet, RSAKey


class SigningKey:
    """One RS256 key with a ``kid``; publishes a JWKS and signs id_tokens. ``rotate`` switches
    to a new key (new ``kid``), the previous one still published until the next rotation, as
    providers roll their keys."""

    def __init__(self) -> None:
        self._retired: RSAKey | None = None
        self.kid, self._key = self._generate()

    @staticmethod
    def _generate() -> tuple[str, RSAKey]:
        kid = uuid.uuid4().hex[:16]
        return kid, RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})

    def rotate(self) -> None:
        self._retired = self._key
        self.kid, self._key = self._generate()

    def jwks(self) -> dict[str, Any]:
        published: list[Key] = [self._key]
        if self._retired is not None:
            published.append(self._retired)
        return dict(KeySet(published).as_dict(private=False))

    def sign(self, claims: dict[str, Any], *, lifetime: int = 3600) -> str:
        now = int(time.time())
        payload = {"iat": now, "nbf": now, "exp": now + lifetime, **claims}
        return jwt.encode({"alg": "RS256", "kid": self.kid, "typ": "JWT"}, payload, self._key)
