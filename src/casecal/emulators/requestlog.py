"""A request log the tests and the benchmark read: method, path, status, timing, account."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    account: str | None
    """The account (Google email / Graph user) the bearer token belongs to, when known."""
    page: str = ""
    """The interactive page the identity endpoints served, if any: ``sign_in`` (the account
    picker) or ``consent`` (a consent screen shown, or accepted on the user's behalf when
    auto-approving)."""


@dataclass
class RequestLog:
    entries: list[LoggedRequest] = field(default_factory=list)

    def clear(self) -> None:
        self.entries.clear()

    def matching(
        self, method: str | None = None, path_contains: str | None = None
    ) -> list[LoggedRequest]:
        return [
            e
            for e in self.entries
            if (method is None or e.method == method)
            and (path_contains is None or path_contains in e.path)
        ]

    def pages(self, page: str) -> list[LoggedRequest]:
        """The requests that served ``page`` (``sign_in`` or ``consent``)."""
        return [e for e in self.entries if e.page == page]

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return len(self.matching(method, path_contains))


AccountResolver = Callable[[Scope], str | None]
PAGE_MARK = "emulator_page"
"""The ``request.state`` attribute a handler sets to name the page it served."""


def mark_page(scope: Scope, page: str) -> None:
    """Record in the request log that this request served ``page`` (``sign_in``, ``consent``)."""
    scope.setdefault("state", {})[PAGE_MARK] = page


class RequestLogMiddleware:
    """Records every HTTP request that passes through. ``resolve_account`` maps the request
    (usually its bearer token) to the account it acts for."""

    def __init__(self, app: ASGIApp, log: RequestLog, resolve_account: AccountResolver) -> None:
        self.app = app
        self.log = log
        self.resolve_account = resolve_account

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        marks: dict[str, str] = scope.setdefault("state", {})  # a handler's ``request.state``

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.log.entries.append(
                LoggedRequest(
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    account=self.resolve_account(scope),
                    page=str(marks.get(PAGE_MARK, "")),
                )
            )
