"""The demo's mail catcher: a loopback SMTP server (aiosmtpd) that keeps every message CaseCal
sends, and the ``/mail`` page that lists them, newest first, so a newcomer can read the consent
and re-authorise emails without a mail server."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

_LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")
"""A link, without the punctuation of the sentence it ends ("... at https://x/y.")."""


@dataclass(frozen=True)
class CaughtMail:
    received_at: datetime
    sender: str
    to: str
    subject: str
    body: str

    def as_json(self) -> dict[str, str]:
        return {"received_at": self.received_at.isoformat(), "from": self.sender, "to": self.to,
                "subject": self.subject, "body": self.body}  # fmt: skip


class MailCatcher:
    """Keeps what it receives in memory (the demo's mail is thrown away with the demo)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[CaughtMail] = []
        self._controller: Any = None

    @property
    def messages(self) -> list[CaughtMail]:
        with self._lock:
            return list(self._messages)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        caught = CaughtMail(
            received_at=datetime.now(UTC), sender=str(parsed.get("From", "")),
            to=str(parsed.get("To", "")), subject=str(parsed.get("Subject", "")), body=body,
        )  # fmt: skip
        with self._lock:
            self._messages.append(caught)
        return "250 OK"

    def start(self, host: str, port: int) -> None:
        """Listen for SMTP on ``host:port`` in a background thread (aiosmtpd's controller)."""
        from aiosmtpd.controller import Controller  # a dev dependency, as the demo is

        self._controller = Controller(self, hostname=host, port=port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _linked(text: str) -> str:
    """Escaped text with its URLs made links (the emails' one-click links)."""
    out, last = [], 0
    for match in _LINK.finditer(text):
        url = html.escape(match.group(0))
        out += [html.escape(text[last : match.start()]), f'<a href="{url}">{url}</a>']
        last = match.end()
    return "".join([*out, html.escape(text[last:])])


def render_mail_page(messages: list[CaughtMail]) -> str:
    items = "".join(
        "<article class='mail'>"
        f"<h2>{html.escape(m.subject)}</h2>"
        f"<p class='meta'>To <b>{html.escape(m.to)}</b> &middot; from {html.escape(m.sender)}"
        f" &middot; <time datetime='{m.received_at.isoformat()}'>"
        f"{m.received_at.strftime('%Y-%m-%d %H:%M:%S UTC')}</time></p>"
        f"<pre>{_linked(m.body)}</pre></article>"
        for m in reversed(messages)
    )
    empty = "<p id='no-mail'>No mail yet. CaseCal's emails (admin consent recorded, "
    empty += "re-authorise) show here as they are sent.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='10'><title>Mail sent by CaseCal (demo)</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;"
        "padding:0 1rem}.mail{border:1px solid #ccc;border-radius:6px;padding:0 1rem;"
        "margin:1rem 0}.meta{color:#555}pre{white-space:pre-wrap;overflow-wrap:anywhere}"
        "</style></head><body><h1>Mail sent by CaseCal</h1>"
        f"<p>{len(messages)} message(s) caught by the demo's mail catcher; newest first. "
        "Nothing leaves this machine.</p>"
        f"{items or empty}</body></html>"
    )


def mail_routes(catcher: MailCatcher) -> list[Route]:
    """``/mail`` (the page) and ``/mail.json`` (the same list, for scripts and tests)."""

    async def page(_request: Request) -> Response:
        return HTMLResponse(render_mail_page(catcher.messages))

    async def as_json(_request: Request) -> Response:
        return JSONResponse([m.as_json() for m in catcher.messages])

    return [Route("/mail", page), Route("/mail.json", as_json)]
