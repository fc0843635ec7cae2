"""Google's error formats: the JSON API error body ({"error": {code, message, errors, status}})
and the OAuth endpoints' flat {"error", "error_description"} body."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

USAGE_REASONS = {
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "dailyLimitExceeded",
}

AUTH_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class ApiError(Exception):
    """A Calendar API error; the app turns it into Google's JSON error response."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}
        self.location = location


def error_body(
    status: int, reason: str, message: str, location: str | None = None
) -> dict[str, Any]:
    domain = "usageLimits" if reason in USAGE_REASONS else "global"
    item: dict[str, Any] = {"domain": domain, "reason": reason, "message": message}
    if location:
        item["locationType"] = "header" if location == "Authorization" else "parameter"
        item["location"] = location
    if status == 409 and reason == "duplicate":
        status_name = "ALREADY_EXISTS"
    elif status == 409:
        status_name = "ABORTED"
    else:
        status_name = STATUS_NAMES.get(status, "UNKNOWN")
    return {"error": {"code": status, "message": message, "errors": [item], "status": status_name}}


def render(status: int, reason: str, message: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The renderer handed to the shared fault middleware."""
    return error_body(status, reason, message), {}


def api_error_response(exc: ApiError) -> JSONResponse:
    headers = dict(exc.headers)
    if exc.status == 401:
        headers.setdefault(
            "WWW-Authenticate", 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        )
    return JSONResponse(
        error_body(exc.status, exc.reason, exc.message, exc.location),
        status_code=exc.status,
        headers=headers,
    )


def unauthenticated() -> ApiError:
    return ApiError(401, "authError", AUTH_MESSAGE, location="Authorization")


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def invalid(message: str, reason: str = "invalid", location: str | None = None) -> ApiError:
    return ApiError(400, reason, message, location=location)


class OAuthError(Exception):
    """An OAuth endpoint error: ``{"error": code, "error_description": description}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
        )


def invalid_grant(description: str = "Bad Request") -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


DEAD_TOKEN = "Token has been expired or revoked."
