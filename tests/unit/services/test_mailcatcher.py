"""The demo's mail catcher: what arrives over SMTP is kept and listed on /mail, newest first,
escaped, with the emails' links clickable."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from casecal.config import Settings
from casecal.mailcatcher import CaughtMail, MailCatcher, mail_routes, render_mail_page
from casecal.services.mail import send_mail


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_what_casecal_sends_is_listed_on_the_mail_page() -> None:
    catcher, port = MailCatcher(), _free_port()
    catcher.start("127.0.0.1", port)
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port)
        body = (
            "Finish here:\n\nhttp://127.0.0.1:8000/calendar-sync/connect/microsoft?modify=1&x=2\n"
        )
        assert await send_mail(settings, "maria@example.com", "First", body)
        assert await send_mail(settings, "dana@example.com", "Second <b>", "plain")
    finally:
        catcher.stop()
    assert [(m.to, m.subject) for m in catcher.messages] == [
        ("maria@example.com", "First"),
        ("dana@example.com", "Second <b>"),
    ]
    app = Starlette(routes=mail_routes(catcher))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as c:
        page = (await c.get("/mail")).text
        listed = (await c.get("/mail.json")).json()
    assert page.index("Second &lt;b&gt;") < page.index("First")  # newest first, escaped
    assert (
        '<a href="http://127.0.0.1:8000/calendar-sync/connect/microsoft?modify=1&amp;x=2">' in page
    )
    assert [m["to"] for m in listed] == ["maria@example.com", "dana@example.com"]


def test_an_empty_mail_page_says_what_will_show_there() -> None:
    assert "No mail yet" in render_mail_page([])
    mail = CaughtMail(datetime(2026, 12, 4, tzinfo=UTC), "a@x", "b@x", "<script>", "<i>")
    page = render_mail_page([mail])
    assert "<script>" not in page.split("</style>", 1)[1]
    assert "&lt;i&gt;" in page


def test_a_link_at_the_end_of_a_sentence_leaves_its_punctuation_out() -> None:
    body = "Open https://x.test/a?b=1. Or (https://x.test/c), or https://x.test/d: done"
    mail = CaughtMail(datetime(2026, 12, 4, tzinfo=UTC), "a@x", "b@x", "s", body)
    page = render_mail_page([mail])
    for link in ("https://x.test/a?b=1", "https://x.test/c", "https://x.test/d"):
        assert f'<a href="{link.replace("&", "&amp;")}">' in page
