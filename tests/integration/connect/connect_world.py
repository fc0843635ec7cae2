"""The world of the connect tests: both emulated identity providers (auto-approving), a real
SMTP server on loopback, a firm with an admin and two seated case managers, each signed in in
their own browser, and the app with the OAuth callbacks. ``conftest`` re-exports the fixtures."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from casecal.auth.states import browser_binding
from casecal.config import Settings
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.store.tables import (
    Role,
    Seat,
    Subscription,
    SubscriptionStatus,
    User,
    WebSession,
    utcnow,
)
from casecal.web.ui.oauth_routes import router

GOOGLE = "http://google.test"
MICROSOFT = "http://microsoft.test"
BASE = "http://testserver"
REDIRECTS = [
    f"{BASE}/oauth/google/callback",
    f"{BASE}/oauth/microsoft/callback",
    f"{BASE}/oauth/microsoft/adminconsent/callback",
]


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path, inbox: tuple[Inbox, int]) -> Settings:
    # Not the defaults, and why: a fixed key, because these tests compute channel secrets and
    # decrypt stored tokens themselves (the default key file is exercised by
    # tests/integration/push/test_push_default_install.py and tests/e2e/demo); the emulators'
    # URLs and client ids, because the providers are emulated in process; SMTP pointed at the
    # fixture's own inbox, because these tests read the mail CaseCal sends (the default, no
    # SMTP host, is test_tokens_and_mail.py::test_without_smtp_host_mail_is_logged_not_sent).
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_keys=["connect-test-key"],
        base_url=BASE,
        google_auth_base_url=GOOGLE,
        google_token_url=f"{GOOGLE}/token",
        google_api_base_url=GOOGLE,
        google_client_id="g-client",
        google_client_secret="g-secret",
        microsoft_auth_base_url=MICROSOFT,
        microsoft_graph_base_url=MICROSOFT,
        microsoft_client_id="m-client",
        microsoft_client_secret="m-secret",
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
    )


@dataclass
class World:
    app: FastAPI
    settings: Settings
    google: GoogleEmulator
    microsoft: MicrosoftEmulator
    tenant_id: str
    http: httpx.AsyncClient
    web: httpx.AsyncClient
    inbox: Inbox
    firm_id: uuid.UUID
    users: dict[str, User] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def actor(self, who: str) -> Actor:
        return Actor.of(self.users[who])

    def binding(self, who: str) -> str:
        return browser_binding(hashlib.sha256(self.cookies[who].encode()).hexdigest())

    async def provider_redirect(self, url: str, **override: str) -> dict[str, str]:
        """Drive an authorize URL at the emulator (auto-approve); the callback's query."""
        if override:
            parts = urlsplit(url)
            query = dict(parse_qsl(parts.query)) | override
            url = str(httpx.URL(parts._replace(query="").geturl(), params=query))
        response = await self.http.get(url)
        assert response.status_code in (302, 303), response.text
        location = response.headers["location"]
        assert location.startswith(BASE), location
        return dict(parse_qsl(urlsplit(location).query))

    async def callback(self, who: str, path: str, params: dict[str, str]) -> httpx.Response:
        """The provider's redirect arriving in ``who``'s browser."""
        cookie = f"casecal_session={self.cookies[who]}"
        return await self.web.get(path, params=params, headers={"Cookie": cookie})


@pytest.fixture
async def world(
    app: FastAPI, app_settings: Settings, inbox: tuple[Inbox, int]
) -> AsyncIterator[World]:
    if not any(getattr(r, "path", "") == "/oauth/{provider}/callback" for r in app.routes):
        app.include_router(router)
    google = GoogleEmulator(seed=1)
    google.auto_approve = True
    for email in ("bob@example.org", "admin@contoso.com", "ann@contoso.com"):
        google.add_account(email)
    google.add_calendar("bob@example.org", "Court dates", access_role="writer")
    google.register_client("g-client", "g-secret", REDIRECTS)
    microsoft = MicrosoftEmulator(seed=1)
    microsoft.auto_approve = True
    tenant = microsoft.add_tenant(domain="contoso.com", admin_consent_required=False)
    microsoft.add_user(tenant, "ann@contoso.com", "Ann Lee")
    microsoft.add_user(tenant, "ann.lee@contoso.com", "Ann Lee (second account)")
    microsoft.add_user(tenant, "admin@contoso.com", "Ada Admin", is_admin=True)
    microsoft.register_app("m-client", "m-secret", REDIRECTS)
    mounts = {
        f"{GOOGLE}": httpx.ASGITransport(app=google.app),
        f"{MICROSOFT}": httpx.ASGITransport(app=microsoft.app),
    }
    http = httpx.AsyncClient(mounts=mounts)
    app.state.http = http
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    async with app.state.sessionmaker() as session:
        firm = await create_firm(
            session, name="Contoso Law", admin_email="admin@contoso.com", admin_name="Ada Admin"
        )
        admin = await session.get(User, firm.admin_user_id)
        assert admin is not None
        ann = User(
            id=uuid.uuid4(),
            firm_id=firm.firm_id,
            email="ann@contoso.com",
            name="Ann Lee",
            role=Role.CASE_MANAGER,
        )
        bob = User(
            id=uuid.uuid4(),
            firm_id=firm.firm_id,
            email="bob@example.org",
            name="Bob Brown",
            role=Role.CASE_MANAGER,
        )
        sub = Subscription(
            id=uuid.uuid4(),
            firm_id=firm.firm_id,
            status=SubscriptionStatus.ACTIVE,
            activated_at=utcnow(),
        )
        session.add_all([ann, bob, sub])
        await session.flush()
        session.add_all(
            [Seat(firm_id=firm.firm_id, subscription_id=sub.id, user_id=u.id) for u in (ann, bob)]
        )
        cookies: dict[str, str] = {}
        for who, user in (("admin", admin), ("ann", ann), ("bob", bob)):
            cookies[who] = f"cookie-{who}-{uuid.uuid4().hex}"
            session.add(
                WebSession(
                    id=hashlib.sha256(cookies[who].encode()).hexdigest(),
                    firm_id=firm.firm_id,
                    user_id=user.id,
                    csrf_token=uuid.uuid4().hex,
                    expires_at=utcnow() + timedelta(hours=1),
                )
            )
        await session.commit()
        users = {"admin": admin, "ann": ann, "bob": bob}
    world = World(
        app,
        app_settings,
        google,
        microsoft,
        tenant,
        http,
        web,
        inbox[0],
        firm.firm_id,
        users,
        cookies,
    )
    try:
        yield world
    finally:
        await web.aclose()
        await http.aclose()
