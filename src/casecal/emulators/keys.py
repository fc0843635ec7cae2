"""RSA signing keys for the emulated identity providers: JWKS and RS256 id_tokens (joserfc)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


class SigningKey:
    """One RS256 key with a ``kid``; publishes a JWKS and signs id_tokens."""

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex[:16]
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"}
        )

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self._key]).as_dict(private=False))

    def sign(self, claims: dict[str, Any], *, lifetime: int = 3600) -> str:
        now = int(time.time())
        payload = {"iat": now, "nbf": now, "exp": now + lifetime, **claims}
        return jwt.encode({"alg": "RS256", "kid": self.kid, "typ": "JWT"}, payload, self._key)
