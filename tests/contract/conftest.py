"""The contract fixture, parametrised over every provider: the suite in this folder runs
unchanged against each adapter on its emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from caldav_harness import CalDavHarness, FaultTransport
from contract_harness import (
    BASE,
    GoogleHarness,
    Harness,
    MicrosoftHarness,
    Receiver,
    RecordingTransport,
)

from casecal.emulators import caldav_servers
from casecal.emulators.caldav_servers import CalDavServer
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator

PROVIDERS = ["google", "microsoft", "caldav-radicale", "caldav-xandikos"]


@pytest.fixture(scope="session")
def caldav_servers_running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, CalDavServer]]:
    """Radicale and Xandikos, started once per test process, on demand."""

    class Lazy(dict[str, CalDavServer]):
        def __missing__(self, kind: str) -> CalDavServer:
            server = caldav_servers.start(kind, tmp_path_factory.mktemp(kind))
            self[kind] = server
            return server

    running = Lazy()
    yield running
    for server in running.values():
        caldav_servers.remove(server)


@pytest.fixture
def caldav_server(
    request: pytest.FixtureRequest, caldav_servers_running: dict[str, CalDavServer]
) -> Iterator[CalDavServer]:
    """A running server (``request.param``: radicale or xandikos) with an empty calendar and
    the user's first app password."""
    server = caldav_servers_running[request.param]
    server.set_password(caldav_servers.PASSWORD)
    server.reset_calendar()
    yield server
    server.set_password(caldav_servers.PASSWORD)


@pytest.fixture(params=PROVIDERS)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    receiver = Receiver()
    if request.param.startswith("caldav-"):
        servers = request.getfixturevalue("caldav_servers_running")
        server = servers[request.param.removeprefix("caldav-")]
        server.set_password(caldav_servers.PASSWORD)
        server.reset_calendar()
        faults = FaultTransport(httpx.AsyncHTTPTransport(verify=server.verify))
        try:
            async with httpx.AsyncClient(transport=faults) as client:
                yield CalDavHarness(client, receiver, faults, server)
        finally:
            server.set_password(caldav_servers.PASSWORD)
        return
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
