"""Google mails guests according to sendUpdates: the emulator records what would be sent;
sendUpdates=none sends nothing, and a write that does not say counts as "all" (stricter than
Google, whose docs warn that some emails might still be sent)."""

from __future__ import annotations

import httpx
from gemu_support import ALICE, event

from casecal.emulators.google import GoogleEmulator

EVENTS = f"/calendar/v3/calendars/{ALICE}/events"
GUESTS = [{"email": "maria@client.example"}, {"email": "ana@example.com"},
          {"email": ALICE, "self": True}]  # fmt: skip


async def sent(raw: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    answer = await raw.get("/_emulator/sent-messages")
    return [(m["kind"], m["to"], m["send_updates"]) for m in answer.json()]


async def test_send_updates_none_mails_nobody_on_any_write(
    api: httpx.AsyncClient, raw: httpx.AsyncClient
) -> None:
    none = {"sendUpdates": "none"}
    made = await api.post(EVENTS, params=none, json=event(attendees=GUESTS))
    assert made.status_code == 200, made.text
    url = f"{EVENTS}/{made.json()['id']}"
    moved = event(hour=11, attendees=GUESTS[:1])
    assert (await api.put(url, params=none, json=moved)).status_code == 200
    assert (await api.delete(url, params=none)).status_code == 204
    assert await sent(raw) == []


async def test_without_send_updates_guests_are_mailed(
    api: httpx.AsyncClient, raw: httpx.AsyncClient, emu: GoogleEmulator
) -> None:
    made = await api.post(EVENTS, json=event(attendees=GUESTS))
    assert await sent(raw) == [
        ("invitation", "ana@example.com", "all"), ("invitation", "maria@client.example", "all")
    ]  # fmt: skip
    await raw.delete("/_emulator/sent-messages")
    url = f"{EVENTS}/{made.json()['id']}"
    await api.patch(
        url,
        params={"sendUpdates": "externalOnly"},
        json={"start": event(hour=11)["start"], "end": event(hour=12)["end"]},
    )
    assert await sent(raw) == [("update", "maria@client.example", "externalOnly")]
    await raw.delete("/_emulator/sent-messages")
    await api.delete(url, params={"sendNotifications": "true"})
    assert [m.kind for m in emu.sent_messages()] == ["cancellation", "cancellation"]
