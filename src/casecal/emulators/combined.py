"""Both emulators behind one port: Google under ``/google``, Microsoft under ``/microsoft``,
and any extra routes (the demo's ``/mail`` page) beside them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route

from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator


@dataclass
class Emulators:
    google: GoogleEmulator
    microsoft: MicrosoftEmulator
    app: Starlette


def build_emulators(
    seed: int = 0, extra_routes: Sequence[BaseRoute] = (), links: Sequence[tuple[str, str]] = ()
) -> Emulators:
    """``links`` are (path, label) pairs added to the index page, for ``extra_routes``."""
    google = GoogleEmulator(seed=seed)
    microsoft = MicrosoftEmulator(seed=seed)

    async def index(request: Request) -> HTMLResponse:
        base = escape(str(request.base_url).rstrip("/"))
        extra = "".join(
            f'<li><a href="{base}{escape(path)}">{escape(label)}</a></li>' for path, label in links
        )
        return HTMLResponse(
            "<!doctype html><title>CaseCal emulators</title>"
            "<h1>CaseCal provider emulators</h1><ul>"
            f'<li><a href="{base}/google/view/">Google Calendar (emulated)</a>'
            f" &mdash; API base <code>{base}/google</code></li>"
            f'<li><a href="{base}/microsoft/view/">Microsoft 365 (emulated)</a>'
            f" &mdash; API base <code>{base}/microsoft</code></li>{extra}</ul>"
        )

    app = Starlette(
        routes=[
            Route("/", index),
            *extra_routes,
            Mount("/google", app=google.app),
            Mount("/microsoft", app=microsoft.app),
        ]
    )
    return Emulators(google=google, microsoft=microsoft, app=app)
