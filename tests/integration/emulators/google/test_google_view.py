"""The emulated Google Calendar view shows events at their wall time in their own zone, and its
forms add, move and delete events through the Calendar API's state paths: the sync token
reports each change and watch channels are notified."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from gemu_support import ALICE, CLIENT_ID, EVENTS, EVENTS_SCOPE, event
from test_google_push import Receiver, channel

from casecal.emulators.google import GoogleEmulator

VIEW = f"/view/{quote(ALICE, safe='')}"


async def changes(api: httpx.AsyncClient, token: str) -> tuple[list[dict[str, Any]], str]:
    body = (await api.get(EVENTS, params={"syncToken": token})).json()
    return body["items"], body["nextSyncToken"]


async def test_times_show_in_the_event_zone(emu: GoogleEmulator, raw: httpx.AsyncClient) -> None:
    emu.client_insert(ALICE, event("Hearing prep", **{
        "start": {"dateTime": "2030-01-10T14:00:00Z", "timeZone": "America/New_York"},
        "end": {"dateTime": "2030-01-10T15:30:00Z", "timeZone": "America/New_York"},
    }))  # fmt: skip
    emu.client_insert(ALICE, {"summary": "Filing day", "start": {"date": "2030-01-11"},
                              "end": {"date": "2030-01-13"}})  # fmt: skip
    page = re.sub(r"<[^>]+>", " ", (await raw.get(VIEW)).text)
    assert "Thu 2030-01-10 09:00-10:30 (America/New_York)" in page
    assert "2030-01-11 to 2030-01-12 (all day)" in page


@pytest.fixture
async def hooked() -> AsyncIterator[tuple[GoogleEmulator, httpx.AsyncClient, Receiver]]:
    """An emulator whose watch notifications go to a receiver, and a client as Alice."""
    receiver = Receiver()
    emu = GoogleEmulator(seed=1, notifier_transport=httpx.ASGITransport(app=receiver.app))
    emu.add_account(ALICE)
    emu.register_client(CLIENT_ID, "s", ["https://app.example/cb"])
    token = emu.issue_tokens(ALICE, CLIENT_ID, [EVENTS_SCOPE])["access_token"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://g.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:  # fmt: skip
        yield emu, client, receiver


async def test_forms_add_move_and_delete_like_the_owner(
    hooked: tuple[GoogleEmulator, httpx.AsyncClient, Receiver],
) -> None:
    emu, api, receiver = hooked
    assert (await api.post(f"{EVENTS}/watch", json=channel())).status_code == 200
    token = (await api.get(EVENTS)).json()["nextSyncToken"]
    added = await api.post(
        f"{VIEW}/add",
        data={"summary": "Call the client", "date": "2030-01-15", "start": "14:30",
              "end": "15:00", "zone": "America/Chicago", "location": "Phone"},
    )  # fmt: skip
    assert added.status_code == 303
    assert added.headers["location"].endswith(VIEW)
    items, token = await changes(api, token)
    assert [(i["summary"], i["start"]) for i in items] == [
        ("Call the client",
         {"dateTime": "2030-01-15T14:30:00-06:00", "timeZone": "America/Chicago"})
    ]  # fmt: skip
    event_id = items[0]["id"]

    moved = await api.post(
        f"{VIEW}/move", data={"id": event_id, "date": "2030-01-16", "time": "09:15"}
    )
    assert moved.status_code == 303
    items, token = await changes(api, token)
    assert [(i["start"]["dateTime"], i["end"]["dateTime"]) for i in items] == [
        ("2030-01-16T09:15:00-06:00", "2030-01-16T09:45:00-06:00")
    ]

    deleted = await api.post(f"{VIEW}/delete", data={"id": event_id})
    assert deleted.status_code == 303
    items, _ = await changes(api, token)
    assert [i["status"] for i in items] == ["cancelled"]
    await emu.flush_notifications()
    states = [h["x-goog-resource-state"] for h, _ in receiver.received]
    assert states == ["sync", "exists", "exists", "exists"]


async def test_bad_input_is_shown_on_the_page(emu: GoogleEmulator, raw: httpx.AsyncClient) -> None:
    refused = await raw.post(f"{VIEW}/add", data={"summary": "No date"})
    assert refused.status_code == 303
    shown = await raw.get(refused.headers["location"])
    assert "Choose a date." in shown.text
    unknown = await raw.post(f"{VIEW}/delete", data={"id": "nonsense"})
    assert "error=" in unknown.headers["location"]
    assert emu.events(ALICE) == []
