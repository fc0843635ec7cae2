"""The provider error taxonomy: what an adapter raises, whatever the provider said.

ProviderError                      (casecal.errors; every adapter failure)
├── AuthExpired                    the grant is dead: the user must sign in again
│                                  (401 after one refresh, invalid_grant, AADSTS50173/70008/700082)
├── ConsentRequired                the grant lacks consent (AADSTS65001/90093/90094, or the
│                                  Google calendar scope was not granted / is insufficient)
├── NotFound                       no such item (404; Google 410 ``deleted``)
│   └── Gone                       the item existed and was deleted (410)
├── PreconditionFailed             If-Match no longer matches (412): re-read, merge, retry
├── CursorExpired                  the sync cursor is dead (Google 410 ``fullSyncRequired``,
│                                  Graph 410 / ``syncStateNotFound``): run a full listing
├── Transient                      try again later (5xx, timeouts, transport errors)
│   └── RateLimited                throttled (429, 503 + Retry-After, Google 403 usageLimits);
│                                  ``retry_after`` is the provider's wish in seconds, if any
└── PermanentError                 any other refusal (400, 403 permission): do not retry
"""

from __future__ import annotations

from casecal.errors import ProviderError


class _Detailed(ProviderError):
    """Carries what the provider said, for logs and the sync log."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        status: int | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message
        self.provider = provider
        self.status = status
        self.reason = reason

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, "
            f"status={self.status!r}, reason={self.reason!r})"
        )


class AuthExpired(_Detailed):
    """The stored grant no longer works; the connection needs re-authorisation."""


class ConsentRequired(_Detailed):
    """The grant lacks consent for what we need; a user (or a tenant admin) must consent."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        status: int | None = None,
        reason: str = "",
        admin: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, status=status, reason=reason)
        self.admin = admin
        """True when only a tenant administrator can grant it (AADSTS90093/90094)."""


class NotFound(_Detailed):
    """The item does not exist (or not any more)."""


class Gone(NotFound):
    """The item existed and was deleted."""


class PreconditionFailed(_Detailed):
    """The item changed since the etag / changeKey we sent."""


class CursorExpired(_Detailed):
    """The change cursor can no longer be used; start a full listing without one."""


class Transient(_Detailed):
    """A failure that may succeed later (after the shared layer's own retries ran out)."""


class RateLimited(Transient):
    """The provider throttled us. ``retry_after`` is the wait it asked for, in seconds."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        status: int | None = None,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status, reason=reason)
        self.retry_after = retry_after


class PermanentError(_Detailed):
    """The provider refused the request for a reason retrying will not fix."""


__all__ = [
    "AuthExpired",
    "ConsentRequired",
    "CursorExpired",
    "Gone",
    "NotFound",
    "PermanentError",
    "PreconditionFailed",
    "ProviderError",
    "RateLimited",
    "Transient",
]
