"""The world of the SAML tests: a firm (admin Ada, case manager Cara, both with passwords, and
a team), a SAML identity provider made with pysaml2 (``saml_idp.SamlIdp``, its own signing
key), and browsers (httpx clients keeping cookies) that sign in through the login page: the
email's domain leads to the firm's IdP, whose signed answer is posted to the firm's ACS."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from saml_idp import AuthnRequestSeen, SamlIdp
from sqlalchemy import func, select

from casecal.auth.passwords import hash_password
from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.saml import SamlInput, save_saml_config
from casecal.store.tables import AuditEvent, Role, Team, User, WebSession

BASE = "http://testserver"
PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)
DOMAIN = "saml-firm.test"


@dataclass
class SamlWorld:
    app: FastAPI
    settings: Settings
    idp: SamlIdp
    firm_id: uuid.UUID
    admin: User
    cara: User
    team_id: uuid.UUID
    tmp: Path

    @property
    def acs_path(self) -> str:
        return f"/sso/saml/{self.firm_id}/acs"

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, follow_redirects=False
        )

    async def configure(self, **given: Any) -> None:
        values: dict[str, Any] = {"metadata_xml": self.idp.metadata(), "domains": DOMAIN,
                                  "enabled": True}  # fmt: skip
        async with self.app.state.sessionmaker() as session:
            await save_saml_config(session, self.app.state.http, self.settings,
                                   Actor.of(self.admin), SamlInput(**(values | given)))  # fmt: skip

    async def start(self, browser: httpx.AsyncClient, email: str) -> AuthnRequestSeen:
        """Type the email under "Sign in with your firm's account": the AuthnRequest the IdP
        receives (read by the IdP's pysaml2 ``Server``)."""
        await browser.get("/login")
        csrf = browser.cookies.get("casecal_login_csrf", "")
        answer = await browser.post("/login/sso", data={"email": email, "csrf_token": csrf})
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(self.idp.sso_url + "?SAMLRequest="), location
        return self.idp.read_request(location)

    async def post(self, browser: httpx.AsyncClient, saml_response: str) -> httpx.Response:
        """The browser posts the IdP's answer to the firm's ACS (HTTP-POST binding)."""
        return await browser.post(self.acs_path, data={"SAMLResponse": saml_response})

    async def sign_in(
        self, email: str, *, browser: httpx.AsyncClient | None = None, **bend: Any
    ) -> httpx.Response:
        web = browser or self.browser()
        seen = await self.start(web, email)
        return await self.post(web, self.idp.response(seen, email, **bend))

    async def sessions(self) -> int:
        async with self.app.state.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(WebSession)) or 0)

    async def user(self, email: str) -> User | None:
        async with self.app.state.sessionmaker() as session:
            found: User | None = await session.scalar(
                select(User).where(User.firm_id == self.firm_id, User.email == email)
            )
            return found

    async def audit(self, action: str) -> list[dict[str, Any]]:
        async with self.app.state.sessionmaker() as session:
            rows = await session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
            return [dict(row.details) for row in rows]


def decoded(saml_response: str) -> str:
    return base64.b64decode(saml_response).decode()


def encoded(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


async def make_world(app: FastAPI, app_settings: Settings, tmp_path: Path) -> SamlWorld:
    """The firm and its IdP (each test module's ``world`` fixture calls this)."""
    idp = SamlIdp(tmp_path / "idp")
    async with app.state.sessionmaker() as session:
        firm = await create_firm(
            session, name="Saml Firm LLP", admin_email=f"ada@{DOMAIN}", admin_name="Ada Admin"
        )
        admin = await session.get(User, firm.admin_user_id)
        assert admin is not None
        admin.password_hash = PASSWORD_HASH
        team = Team(firm_id=firm.firm_id, name="Probate")
        cara = User(firm_id=firm.firm_id, email=f"cara@{DOMAIN}", name="Cara Case",
                    role=Role.CASE_MANAGER, password_hash=PASSWORD_HASH)  # fmt: skip
        session.add_all([team, cara])
        await session.commit()
        await session.refresh(admin)
        await session.refresh(cara)
        await session.refresh(team)
    return SamlWorld(app, app_settings, idp, firm.firm_id, admin, cara, team.id, tmp_path)
