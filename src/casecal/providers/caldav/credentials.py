"""HTTP Basic credentials (username + app-specific password) as a ``TokenSource``.

CalDAV servers (iCloud, Fastmail, Nextcloud) take an app password over Basic auth; there is
nothing to refresh, so a 401 means the password was revoked or is wrong: ``AuthExpired``.
The password is never part of a repr, a log line or an error message.
"""

from __future__ import annotations

import base64

from casecal.providers.errors import AuthExpired


class BasicCredentials:
    """The ``Authorization: Basic`` value of one account (see ``HttpLayer(auth_scheme=...)``)."""

    __slots__ = ("_value", "refresh_count", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._value = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.refresh_count = 0

    async def access_token(self) -> str:
        return self._value

    async def refresh(self, failed: str | None = None) -> str:
        """A refused app password cannot be renewed here: the user makes a new one."""
        self.refresh_count += 1
        raise AuthExpired(
            "the server refused the username and app password",
            provider="caldav",
            status=401,
            reason="unauthorized",
        )

    def __repr__(self) -> str:
        return f"BasicCredentials(username={self.username!r}, password=<hidden>)"
