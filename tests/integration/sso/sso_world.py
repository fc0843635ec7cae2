"""The world of the SSO tests: the emulated Entra ID (two tenants) and Google (Workspace and
consumer accounts), an independent OpenID provider (``oidc-provider-mock``, a Flask app served
over real HTTP on loopback), a firm with an admin and a case manager with passwords, and a
browser (an httpx client keeping cookies) that signs in through the login page."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from casecal.auth.passwords import hash_password
from casecal.config import Settings
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.sso import SsoInput, save_config
from casecal.store.tables import Role, Team, User, WebSession

GOOGLE = "http://google.test"
MICROSOFT = "http://microsoft.test"
BASE = "http://testserver"
CALLBACK = f"{BASE}/sso/callback"
PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)
OTHER_TENANT = "00000000-0000-4000-8000-00000000c0de"
"""A second tenant the firm lists (so Entra ID sign-in uses the ``organizations`` authority)."""


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    # Not the defaults, and why: a fixed key, because the tests decrypt the stored client secret
    # to check it is encrypted; no embedded scheduler, because sign-in tests must not race a
    # background pass (the default scheduler runs in tests/e2e/demo and the browser tests);
    # the emulators' URLs, because the identity providers are emulated in process.
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_keys=["sso-test-key"],
        base_url=BASE,
        embedded_scheduler=False,
        google_auth_base_url=GOOGLE,
        google_token_url=f"{GOOGLE}/token",
        google_api_base_url=GOOGLE,
        microsoft_auth_base_url=MICROSOFT,
        microsoft_graph_base_url=MICROSOFT,
    )


INDEPENDENT_USERS = {
    "olga": {"email": "olga@okta-firm.test", "email_verified": True, "name": "Olga Ortiz",
             "groups": ["Probate"]},
    "omar": {"email": "omar@okta-firm.test", "email_verified": False, "name": "Omar Unverified"},
    "cara": {"email": "cara@okta-firm.test", "email_verified": True, "name": "Cara Case"},
    "xavier": {"email": "xavier@elsewhere.test", "email_verified": True, "name": "Xavier"},
}  # fmt: skip


@pytest.fixture(scope="session")
def independent_idp() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 (nonce required), in its own process; its issuer."""
    script = Path(__file__).with_name("independent_idp.py")
    process = subprocess.Popen(
        [sys.executable, str(script), json.dumps(INDEPENDENT_USERS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class SsoWorld:
    app: FastAPI
    settings: Settings
    google: GoogleEmulator
    microsoft: MicrosoftEmulator
    tenant_id: str
    other_tenant_id: str
    issuer: str
    http: httpx.AsyncClient
    firm_id: uuid.UUID
    admin: User
    cara: User
    team_id: uuid.UUID

    @property
    def admin_actor(self) -> Actor:
        return Actor.of(self.admin)

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, follow_redirects=False
        )

    async def configure(self, kind: str, **given: Any) -> None:
        values: dict[str, Any] = {"client_secret": "sso-secret", "enabled": True}
        if kind == "entra":
            values |= {"client_id": "sso-ms", "tenants": f"{self.tenant_id}\n{OTHER_TENANT}",
                       "domains": "firm-ms.test"}  # fmt: skip
        elif kind == "google":
            values |= {"client_id": "sso-google", "domains": "firm.test"}
        else:
            values |= {"client_id": "sso-oidc", "issuer": self.issuer, "domains": "okta-firm.test"}
        values |= given
        async with self.app.state.sessionmaker() as session:
            await save_config(session, self.settings, self.admin_actor, SsoInput(kind, **values))

    async def start(self, browser: httpx.AsyncClient, email: str) -> str:
        """Type the email under "Sign in with your firm's account"; the provider's URL."""
        await browser.get("/login")
        csrf = browser.cookies.get("casecal_login_csrf", "")
        answer = await browser.post("/login/sso", data={"email": email, "csrf_token": csrf})
        assert answer.status_code == 303, answer.text
        return answer.headers["location"]

    async def at_provider(self, url: str, *, sub: str = "") -> str:
        """The provider signs the person in; the callback URL it redirects the browser to.
        Emulators auto-approve (``login_hint``); the independent provider takes a ``sub``."""
        if sub:
            answer = await self.http.post(url, data={"sub": sub})
        else:
            answer = await self.http.get(url)
        assert answer.status_code in (302, 303), answer.text
        location = answer.headers["location"]
        assert location.startswith(CALLBACK), location
        return location

    async def sign_in(
        self, email: str, *, sub: str = "", browser: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        """The whole sign-in in one browser; the callback's answer."""
        web = browser or self.browser()
        callback = await self.at_provider(await self.start(web, email), sub=sub)
        parts = urlsplit(callback)
        return await web.get(f"{parts.path}?{parts.query}")

    async def sessions(self) -> int:
        async with self.app.state.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(WebSession)) or 0)

    async def user(self, email: str) -> User | None:
        async with self.app.state.sessionmaker() as session:
            found: User | None = await session.scalar(
                select(User).where(User.firm_id == self.firm_id, User.email == email)
            )
            return found


@pytest.fixture
async def sso_world(
    app: FastAPI, app_settings: Settings, independent_idp: str
) -> AsyncIterator[SsoWorld]:
    google = GoogleEmulator(seed=3)
    google.auto_approve = True
    google.add_account("gina@firm.test", "Gina Green", hosted_domain="firm.test")
    google.add_account("gus@elsewhere.test", "Gus", hosted_domain="elsewhere.test")
    google.add_account("pat@gmail.test", "Pat Personal")
    google.add_account("uma@firm.test", "Uma", hosted_domain="firm.test", email_verified=False)
    google.register_client("sso-google", "sso-secret", [CALLBACK])
    microsoft = MicrosoftEmulator(seed=3)
    microsoft.auto_approve = True
    tenant = microsoft.add_tenant(domain="firm-ms.test")
    other = microsoft.add_tenant(domain="other.test")
    microsoft.add_user(tenant, "mia@firm-ms.test", "Mia Moss", groups=["Family law"])
    microsoft.add_user(other, "eve@other.test", "Eve Outsider")
    microsoft.register_app("sso-ms", "sso-secret", [CALLBACK])
    mounts = {
        GOOGLE: httpx.ASGITransport(app=google.app),
        MICROSOFT: httpx.ASGITransport(app=microsoft.app),
    }
    http = httpx.AsyncClient(mounts=mounts)
    app.state.http = http
    async with app.state.sessionmaker() as session:
        firm = await create_firm(
            session, name="Firm LLP", admin_email="ada@firm.test", admin_name="Ada Admin"
        )
        admin = await session.get(User, firm.admin_user_id)
        assert admin is not None
        admin.password_hash = PASSWORD_HASH
        team = Team(firm_id=firm.firm_id, name="Family law")
        cara = User(firm_id=firm.firm_id, email="cara@okta-firm.test", name="Cara Case",
                    role=Role.CASE_MANAGER, password_hash=PASSWORD_HASH)  # fmt: skip
        session.add_all([team, cara])
        await session.commit()
        await session.refresh(admin)
        await session.refresh(cara)
        await session.refresh(team)
    world = SsoWorld(app, app_settings, google, microsoft, tenant, other, independent_idp, http,
                     firm.firm_id, admin, cara, team.id)  # fmt: skip
    try:
        yield world
    finally:
        await http.aclose()
