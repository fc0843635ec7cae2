"""Graph mails attendees on the organizer's behalf (no sendUpdates=none): the emulator records
an invitation per attendee on create, updates when the time changes, invitations and
cancellations when attendees change, cancellations on delete; readable over its control API."""

from __future__ import annotations

from typing import Any

import httpx
from ms_support import event_body

from casecal.emulators.microsoft import MicrosoftEmulator

PEOPLE = [
    {"emailAddress": {"address": "maria@client.example", "name": "Maria"}},
    {"emailAddress": {"address": "Interpreter@Example.org", "name": ""}},
]
WEEKLY = {
    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
    "range": {"type": "numbered", "startDate": "2026-05-04", "numberOfOccurrences": 3},
}


async def sent(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    answer = await client.get("/_emulator/sent-messages")
    assert answer.status_code == 200
    return [(m["kind"], m["to"]) for m in answer.json()]


async def post(client: httpx.AsyncClient, auth: dict[str, str], body: Any) -> dict[str, Any]:
    made = await client.post("/v1.0/me/events", headers=auth, json=body)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


async def test_an_event_without_attendees_mails_nobody(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await post(client, auth, event_body())
    moved = {"start": {"dateTime": "2026-05-04T11:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2026-05-04T12:00:00", "timeZone": "UTC"}}  # fmt: skip
    await client.patch(f"/v1.0/me/events/{event['id']}", headers=auth, json=moved)
    await client.delete(f"/v1.0/me/events/{event['id']}", headers=auth)
    assert await sent(client) == []


async def test_create_update_and_delete_of_a_meeting_mail_its_attendees(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator
) -> None:
    event = await post(client, auth, event_body(attendees=PEOPLE))
    assert await sent(client) == [
        ("invitation", "interpreter@example.org"), ("invitation", "maria@client.example")
    ]  # fmt: skip
    await client.delete("/_emulator/sent-messages")
    url = f"/v1.0/me/events/{event['id']}"
    await client.patch(url, headers=auth, json={"subject": "Renamed"})
    assert await sent(client) == []  # a new subject alone sends nothing
    later = {"start": {"dateTime": "2026-05-04T11:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2026-05-04T12:00:00", "timeZone": "UTC"}}  # fmt: skip
    await client.patch(url, headers=auth, json=later)
    assert await sent(client) == [
        ("update", "interpreter@example.org"), ("update", "maria@client.example")
    ]  # fmt: skip
    await client.delete("/_emulator/sent-messages")
    swap = [PEOPLE[0], {"emailAddress": {"address": "judge@court.example", "name": "J"}}]
    await client.patch(url, headers=auth, json={"attendees": swap})
    assert await sent(client) == [
        ("invitation", "judge@court.example"), ("cancellation", "interpreter@example.org")
    ]  # fmt: skip
    await client.delete("/_emulator/sent-messages")
    await client.delete(url, headers=auth)
    assert await sent(client) == [
        ("cancellation", "judge@court.example"), ("cancellation", "maria@client.example")
    ]  # fmt: skip
    assert [m.subject for m in emu.sent_messages()] == ["Renamed", "Renamed"]


async def test_an_occurrence_moved_or_deleted_mails_the_series_attendees(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = event_body(day="2026-05-04", attendees=PEOPLE[:1], recurrence=WEEKLY)
    master = await post(client, auth, body)
    await client.delete("/_emulator/sent-messages")
    listed = await client.get(
        f"/v1.0/me/events/{master['id']}/instances",
        headers=auth,
        params={"startDateTime": "2026-05-01T00:00:00Z", "endDateTime": "2026-06-01T00:00:00Z"},
    )
    first, second = listed.json()["value"][:2]
    moved = {"start": {"dateTime": "2026-05-05T09:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2026-05-05T10:00:00", "timeZone": "UTC"}}  # fmt: skip
    await client.patch(f"/v1.0/me/events/{first['id']}", headers=auth, json=moved)
    await client.delete(f"/v1.0/me/events/{second['id']}", headers=auth)
    answer = (await client.get("/_emulator/sent-messages")).json()
    assert [(m["kind"], m["to"]) for m in answer] == [
        ("update", "maria@client.example"), ("cancellation", "maria@client.example")
    ]  # fmt: skip
    assert len({m["event_id"] for m in answer}) == 1  # the series' (immutable) id
    assert [m["occurrence"][:10] for m in answer] == ["2026-05-04", "2026-05-11"]
