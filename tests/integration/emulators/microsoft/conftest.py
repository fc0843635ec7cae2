"""Fixtures for the Microsoft emulator tests: an emulator wired to an in-process webhook
receiver, a populated directory (two tenants, users, an app) and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ms_support import CLIENT_ID, REDIRECT, SCOPES, SECRET, Receiver, World

from casecal.emulators.microsoft import MicrosoftEmulator


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def emu(receiver: Receiver) -> MicrosoftEmulator:
    # A fixed seed for repeatable ids; notifications go in-process to the receiver, not HTTP.
    return MicrosoftEmulator(seed=7, notifier_transport=httpx.ASGITransport(app=receiver.app))


@pytest.fixture
def world(emu: MicrosoftEmulator) -> World:
    user_tenant = emu.add_tenant(domain="contoso.com")
    admin_tenant = emu.add_tenant(domain="fabrikam.com", admin_consent_required=True)
    ann = emu.add_user(user_tenant, "ann@contoso.com", "Ann Lee")
    bob = emu.add_user(admin_tenant, "bob@fabrikam.com", "Bob Ray")
    carol = emu.add_user(admin_tenant, "carol@fabrikam.com", "Carol Admin", is_admin=True)
    emu.register_app(CLIENT_ID, SECRET, [REDIRECT])
    return World(user_tenant, admin_tenant, ann, bob, carol)


@pytest.fixture
async def client(emu: MicrosoftEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def tokens(emu: MicrosoftEmulator, world: World) -> dict[str, Any]:
    return emu.issue_tokens("ann@contoso.com", CLIENT_ID, SCOPES)


@pytest.fixture
def auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
