"""What the emulator's route modules share: its state objects, switches and URL helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ..faults import FaultInjector
from ..keys import SigningKey
from ..requestlog import RequestLog
from .clock import Clock
from .errors import invalid
from .listing import Cursors
from .push import Notifier
from .state import State
from .tokens import OAuthState


@dataclass
class RateBudget:
    limit: int
    window: float
    hits: list[float] = field(default_factory=list)


@dataclass
class Context:
    clock: Clock
    state: State
    oauth: OAuthState
    cursors: Cursors
    notifier: Notifier
    faults: FaultInjector
    log: RequestLog
    key: SigningKey
    auto_approve: bool = False
    declined_scopes: set[str] = field(default_factory=set)
    """Scopes the automated user unticks on the consent screen (granular consent)."""
    budgets: dict[str, RateBudget] = field(default_factory=dict)


def base_url(request: Request) -> str:
    """Scheme, host and mount prefix: every absolute URL the emulator hands out starts so."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}"


def strip_root(scope: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``scope`` whose path is relative to the mount prefix (kept in root_path),
    so routes, faults and the request log see the same paths however the app is mounted."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        scope = {**scope, "path": path[len(root) :] or "/"}
        scope.pop("raw_path", None)
    return scope


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("Invalid JSON payload received.", reason="parseError") from None
