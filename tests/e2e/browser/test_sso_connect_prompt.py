"""In a real browser: the firm admin configures single sign-on through the emulated Entra ID,
turns the connect prompt on and locks it for the whole firm (and seats the people single
sign-on creates); a new case manager signs in with their firm account, is provisioned, is taken
straight to "Connect Microsoft 365", connects, and the first sync puts a court date in the
emulated Outlook calendar; a second newcomer answers "Not now" and lands on Calendar Sync with
the reason, free to connect by hand. The emulated Entra ID and Microsoft 365 run in a process of
their own (``casecal emulators``), set up through their control surface as an operator would;
CaseCal is served on loopback as in the other browser tests. A screenshot per step in
test-output/screenshots/."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import (
    STEP_TIMEOUT_MS,
    Shots,
    casecal_settings,
    in_thread,
    loopback_socket,
    seed_firm,
    serve,
    sign_in,
    sign_out,
    tomorrow_at_ten,
)

from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.case_entries import create_case_entry
from casecal.services.cases import create_case
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade
from casecal.store.tables import CourtDate, Role, User
from casecal.web.app import create_app

pytestmark = pytest.mark.browser

SSO_APP = ("casecal-sso", "entra-sso-secret")
CONNECT_APP = ("casecal-microsoft", "microsoft-secret")
"""``harness.casecal_settings``'s Microsoft app."""
NORA, OMAR = "nora@contoso.com", "omar@contoso.com"


@dataclass
class World:
    url: str
    emulators_url: str
    settings: Settings
    firm_id: uuid.UUID
    admin_id: uuid.UUID
    tenant_id: str
    oids: dict[str, str]

    def emulator(self, method: str, path: str, body: Any = None) -> Any:
        return control(self.emulators_url, method, path, body)

    def run(self, work: Any) -> Any:
        async def go() -> Any:
            engine = make_engine(self.settings.database_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    return await work(session)
            finally:
                await engine.dispose()

        return in_thread(asyncio.run, go())


def control(emulators_url: str, method: str, path: str, body: Any = None) -> Any:
    """The Microsoft emulator's control surface (``/microsoft/_emulator``), over HTTP."""
    answer = httpx.request(method, f"{emulators_url}/microsoft/_emulator{path}", json=body,
                           timeout=10)  # fmt: skip
    assert answer.status_code < 300, (path, answer.status_code, answer.text)
    return answer.json() if answer.content else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emulators_url() -> Iterator[str]:
    """``casecal emulators`` in a process of its own, until the test ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECAL_")}
    argv = [sys.executable, "-m", "casecal.cli", "emulators", "--port", str(port)]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/microsoft/_emulator/state", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the emulators process exited"
            assert time.monotonic() < deadline, "the emulators never answered"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def world(tmp_path: Path, emulators_url: str) -> Iterator[World]:
    """Contoso Law (the harness's firm) on CaseCal, its Entra ID tenant in the emulators: the
    admin, two people CaseCal does not know yet, CaseCal's SSO and Microsoft apps, which the
    tenant's IT approved for everyone (admin consent)."""
    casecal_sock, base = loopback_socket()
    settings = casecal_settings(tmp_path, base, emulators_url)
    control(emulators_url, "POST", "/settings", {"auto_approve": True})
    tenant = control(emulators_url, "POST", "/tenants", {"domain": "contoso.com"})["tenant_id"]
    oids = {}
    for upn, name, admin in (("admin@contoso.com", "Ada Admin", True),
                             (NORA, "Nora North", False), (OMAR, "Omar Oak", False)):  # fmt: skip
        body = {"tenant_id": tenant, "upn": upn, "name": name, "is_admin": admin}
        oids[upn] = control(emulators_url, "POST", "/users", body)["oid"]
    apps = {SSO_APP: [f"{base}/sso/callback"], CONNECT_APP: [f"{base}/oauth/microsoft/callback"]}
    for (client_id, secret), redirects in apps.items():
        app = {"client_id": client_id, "client_secret": secret, "redirect_uris": redirects}
        control(emulators_url, "POST", "/apps", app)
        control(emulators_url, "POST", f"/tenants/{tenant}/admin-consent", {"client_id": client_id})
    in_thread(upgrade, settings.database_url)
    world = World(base, emulators_url, settings, uuid.uuid4(), uuid.uuid4(), tenant, oids)
    world.firm_id, people = world.run(seed_firm)
    world.admin_id = people["admin"]
    with casecal_sock, serve(create_app(settings), casecal_sock):
        yield world


def _set_firm_value(page: Page, key: str, value: str, *, lock: bool = False) -> None:
    row = page.locator(f"#setting-{key.replace('.', '-')}")
    row.get_by_label(re.compile("New value")).select_option(value)
    if lock:
        row.get_by_label(re.compile("Lock it")).check()
    row.get_by_role("button", name=re.compile("^Save")).click()
    expect(row.locator(".setting-value")).to_have_text("Yes" if value == "true" else "No")


def _newcomer(browser: Browser, world: World, email: str, shots: Shots, step: str) -> Page:
    """A new person's own browser, signed in through the firm's account."""
    person = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    person.set_default_timeout(STEP_TIMEOUT_MS)
    person.goto(f"{world.url}/login")
    person.get_by_label("Your work address").fill(email)
    shots(person, step)
    person.get_by_role("button", name="Continue with your firm's account").click()
    return person


def test_admin_turns_the_connect_prompt_on_and_newcomers_connect_or_say_not_now(
    browser: Browser, page: Page, world: World, shots: Shots
) -> None:
    sign_in(page, world.url, "admin@contoso.com")
    page.get_by_role("button", name="Subscribe to Calendar Sync").click()
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#subscription-status")).to_have_text("Active")
    page.goto(f"{world.url}/single-sign-on")
    entra = page.get_by_role("region", name="Your firm's identity provider")
    entra.get_by_label("Microsoft Entra ID").check()
    entra.get_by_label(re.compile("Entra ID tenant ids")).fill(world.tenant_id)
    entra.get_by_label("Client id").fill(SSO_APP[0])
    entra.get_by_label("Client secret").fill(SSO_APP[1])
    entra.get_by_label(re.compile("Your firm's email domains")).fill("contoso.com")
    entra.get_by_label("Single sign-on is on").check()
    entra.get_by_label(re.compile(r"Create an account \(case manager\)")).check()
    shots(page, "admin-configures-entra-sso")
    entra.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_role("status")).to_have_text("Single sign-on saved.")

    page.goto(f"{world.url}/firm-settings")
    _set_firm_value(page, "sso.ask_to_connect", "true", lock=True)
    prompt_row = page.locator("#setting-sso-ask_to_connect")
    expect(prompt_row.locator("[data-lock]")).to_contain_text("Locked")
    _set_firm_value(page, "sso.seat_at_provisioning", "true")
    prompt_row.scroll_into_view_if_needed()
    shots(page, "admin-turns-the-prompt-on-and-locks-it")
    sign_out(page)

    nora = _newcomer(browser, world, NORA, shots, "nora-signs-in-with-her-firm-account")
    nora.wait_for_url(re.compile(r".*/calendar-sync/connect-prompt$"))
    expect(nora.get_by_role("heading", name="Connect Microsoft 365", exact=True)).to_be_visible()
    expect(nora.get_by_text("Nora North")).to_be_visible()
    expect(nora.get_by_role("button", name="Not now")).to_be_visible()
    shots(nora, "nora-is-asked-to-connect-microsoft-365")
    nora.get_by_role("button", name="Connect Microsoft 365").click()
    expect(nora.get_by_role("heading", name="Choose the calendar to keep in sync")).to_be_visible()
    shots(nora, "nora-chooses-her-calendar")
    nora.get_by_role("button", name="Submit").click()
    expect(nora.locator("#connection-state")).to_have_text("Active")
    shots(nora, "nora-connected")

    async def court_date(session: AsyncSession) -> None:
        admin = Actor(world.admin_id, world.firm_id, Role.FIRM_ADMIN)
        user = await session.scalar(
            select(User.id).where(User.email == NORA, User.firm_id == world.firm_id)
        )
        assert user is not None
        case = await create_case(session, admin, {"number": "SSO-1", "beneficiary": "Ana Diaz",
                                                  "manager_ids": [user]})  # fmt: skip
        entry = {"case_id": case.id, "hearing_type": "Master calendar hearing",
                 "start_at": tomorrow_at_ten()}  # fmt: skip
        await create_case_entry(session, admin, CourtDate, entry)

    world.run(court_date)
    nora.get_by_role("button", name="Sync now").click()
    expect(nora.get_by_text("Sync finished.")).to_be_visible()
    shots(nora, "nora-first-sync")
    events = world.emulator("GET", f"/users/{world.oids[NORA]}/events")
    subjects = [e["subject"] for e in events]
    assert any("Master calendar hearing" in s for s in subjects), subjects
    nora.context.close()

    omar = _newcomer(browser, world, OMAR, shots, "omar-signs-in-with-his-firm-account")
    omar.wait_for_url(re.compile(r".*/calendar-sync/connect-prompt$"))
    expect(omar.get_by_role("heading", name="Connect Microsoft 365", exact=True)).to_be_visible()
    shots(omar, "omar-is-asked-to-connect")
    omar.get_by_role("button", name="Not now").click()
    omar.wait_for_url(re.compile(r".*/calendar-sync\?prompt=.*"))
    expect(omar.get_by_role("status")).to_contain_text("Not now: CaseCal will not ask you")
    expect(omar.get_by_role("status")).to_contain_text("next 7 days")
    expect(omar.get_by_role("heading", name="Connect your calendar")).to_be_visible()
    expect(omar.get_by_role("button", name="Microsoft 365 / Exchange")).to_be_visible()
    shots(omar, "omar-on-calendar-sync-after-not-now")
    omar.context.close()
