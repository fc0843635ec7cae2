"""events.watch and channels.stop: channel validation, and notifications delivered to an
in-process receiver with the documented headers ("sync" first, then "exists", no body)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gemu_support import ALICE, CLIENT_ID, EVENTS, EVENTS_SCOPE, event, reason
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casecal.emulators.google import GoogleEmulator

HOOK = "https://casecal.example/hooks/google"


class Receiver:
    """A tiny webhook receiver app that records what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=200)

        self.app = Starlette(routes=[Route("/hooks/google", hook, methods=["POST"])])


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def watched(receiver: Receiver) -> Any:
    emu = GoogleEmulator(seed=1, notifier_transport=httpx.ASGITransport(app=receiver.app))
    emu.add_account(ALICE)
    emu.register_client(CLIENT_ID, "s", ["https://app.example/cb"])
    token = emu.issue_tokens(ALICE, CLIENT_ID, [EVENTS_SCOPE])["access_token"]
    transport = httpx.ASGITransport(app=emu.app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://g.test", headers=headers
    ) as c:
        yield emu, c


def channel(**extra: Any) -> dict[str, Any]:
    return {
        "id": "chan-1",
        "type": "web_hook",
        "address": HOOK,
        "token": "route=1&sig=abc",
        **extra,
    }


async def test_watch_delivers_sync_then_exists(watched: Any, receiver: Receiver) -> None:
    emu, api = watched
    r = await api.post(f"{EVENTS}/watch", json=channel())
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "api#channel"
    assert body["id"] == "chan-1"
    assert body["resourceUri"].startswith("http://g.test/calendar/v3/calendars/primary/events")
    assert int(body["expiration"]) > 0
    await api.post(EVENTS, json=event())
    emu.client_insert(ALICE, event("From elsewhere", day=12))
    await emu.flush_notifications()
    states = [h["x-goog-resource-state"] for h, _ in receiver.received]
    assert states == ["sync", "exists", "exists"]
    numbers = [h["x-goog-message-number"] for h, _ in receiver.received]
    assert numbers == ["1", "2", "3"]
    headers, content = receiver.received[1]
    assert content == b""
    assert headers["x-goog-channel-id"] == "chan-1"
    assert headers["x-goog-channel-token"] == "route=1&sig=abc"
    assert headers["x-goog-resource-id"] == body["resourceId"]
    assert headers["x-goog-resource-uri"] == body["resourceUri"]
    assert headers["x-goog-channel-expiration"].endswith("GMT")
    stop = {"id": "chan-1", "resourceId": body["resourceId"]}
    assert (await api.post("/calendar/v3/channels/stop", json=stop)).status_code == 204
    await api.post(EVENTS, json=event(day=13))
    assert len(receiver.received) == 3
    again = await api.post("/calendar/v3/channels/stop", json=stop)
    assert again.status_code == 404
    assert [d.status for d in emu.deliveries] == [200, 200, 200]


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x" * 65},
        {"token": "t" * 257},
        {"address": "http://casecal.example/hook"},
        {"type": "email"},
        {"expiration": 1000},
        {"colour": "red"},
    ],
)
async def test_watch_validation(watched: Any, bad: dict[str, Any]) -> None:
    _, api = watched
    r = await api.post(f"{EVENTS}/watch", json=channel(**bad))
    assert r.status_code == 400
    assert reason(r)


async def test_channel_ids_are_unique_and_expiry_is_capped(
    watched: Any, receiver: Receiver
) -> None:
    emu, api = watched
    far = int((emu.clock.now() + 30 * 86400) * 1000)
    body = (await api.post(f"{EVENTS}/watch", json=channel(expiration=far))).json()
    assert int(body["expiration"]) <= int((emu.clock.now() + 7 * 86400) * 1000) + 1000
    dup = await api.post(f"{EVENTS}/watch", json=channel())
    assert dup.status_code == 400
    assert reason(dup) == "channelIdNotUnique"
    emu.advance(8 * 86400)
    emu.client_insert(ALICE, event())
    await emu.flush_notifications()
    assert [h["x-goog-resource-state"] for h, _ in receiver.received] == ["sync"]
