"""The contract fixture, parametrised over every provider: the suite in this folder runs
unchanged against each adapter on its emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from contract_harness import (
    BASE,
    GoogleHarness,
    Harness,
    MicrosoftHarness,
    Receiver,
    RecordingTransport,
)

from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator


@pytest.fixture(params=["google", "microsoft"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    receiver = Receiver()
    hooks = httpx.MockTransport(receiver)
    emulator: GoogleEmulator | MicrosoftEmulator
    # A fixed seed for repeatable ids; push deliveries go to the in-process receiver.
    if request.param == "google":
        emulator = GoogleEmulator(seed=3, notifier_transport=hooks)
    else:
        emulator = MicrosoftEmulator(seed=3, notifier_transport=hooks)
    transport = RecordingTransport(httpx.ASGITransport(app=emulator.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        if isinstance(emulator, GoogleEmulator):
            yield GoogleHarness(client, receiver, transport.sent, emulator)
        else:
            yield MicrosoftHarness(client, receiver, transport.sent, emulator)
