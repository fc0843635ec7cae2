"""CaseCal's one error tree.

CaseCalError
├── DomainError            bad input the user can fix (maps to HTTP 4xx)
│   ├── ValidationFailed   a value breaks a rule (end before start, unknown zone, bad RRULE)
│   ├── NotFound           no such thing in this firm (also: it belongs to another firm)
│   ├── PermissionDenied   the caller's role may not do this
│   └── Conflict           the request clashes with the current state
└── ProviderError          raised by provider adapters (see ``casecal.providers.errors``)
"""

from __future__ import annotations


class CaseCalError(Exception):
    """Base of every error CaseCal raises on purpose."""


class DomainError(CaseCalError):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ValidationFailed(DomainError):
    status_code = 422
    title = "Validation failed"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status_code = 403
    title = "Forbidden"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class ProviderError(CaseCalError):
    """Base of the provider error taxonomy."""
