"""Fixtures for the Google emulator tests: an emulator with one account and one client, and
an httpx client talking to it in-process with a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from gemu_support import ALICE, BASE, CLIENT_ID, CLIENT_SECRET, EVENTS_SCOPE, LIST_SCOPE, REDIRECT

from casecal.emulators.google import GoogleEmulator


@pytest.fixture
def emu() -> GoogleEmulator:
    emulator = GoogleEmulator(seed=0)  # a fixed seed: ids and tokens repeat from run to run
    emulator.add_account(ALICE, name="Alice Example")
    emulator.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
    return emulator


@pytest.fixture
async def raw(emu: GoogleEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """No credentials."""
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


@pytest.fixture
async def api(emu: GoogleEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Authorised as Alice with calendar.events + calendar.calendarlist.readonly."""
    tokens = emu.issue_tokens(ALICE, CLIENT_ID, [EVENTS_SCOPE, LIST_SCOPE])
    transport = httpx.ASGITransport(app=emu.app)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
        yield client
