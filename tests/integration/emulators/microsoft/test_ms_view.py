"""The emulated Outlook view shows each event at its wall time with its zone (single events
were labelled "UTC" while showing local time), and its forms add, move and delete events
through the same paths as Graph: delta reports the changes and subscribers are notified."""

from __future__ import annotations

import re
from typing import Any

import httpx
from ms_support import WINDOW, Receiver, World, event_body
from test_ms_delta import rounds
from test_ms_subscriptions import subscribe

from casecal.emulators.microsoft import MicrosoftEmulator

DELTA = f"/v1.0/me/calendarView/delta?{WINDOW}"
WEEKLY = {
    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
    "range": {"type": "numbered", "startDate": "2026-05-04", "numberOfOccurrences": 2},
}


def calendar_url(emu: MicrosoftEmulator, world: World) -> str:
    return f"/view/{world.ann}/{emu.state.users[world.ann].default_calendar_id}"


def text(page: httpx.Response) -> str:
    return re.sub(r"<[^>]+>", " ", page.text)


async def test_times_show_in_the_zone_they_were_written_in(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    await client.post("/v1.0/me/events", headers=auth, json=event_body("Single"))
    series = event_body("Series", recurrence=WEEKLY)
    await client.post("/v1.0/me/events", headers=auth, json=series)
    page = text(await client.get(calendar_url(emu, world)))
    # 09:00 in Berlin (W. Europe, summer time) is 07:00 UTC, for the single event and the series
    assert page.count("Mon 2026-05-04 09:00-10:00 (W. Europe Standard Time)") == 2
    assert page.count("2026-05-04 07:00 UTC") == 2
    assert "09:00 UTC" not in page


async def test_forms_add_move_and_delete_like_a_user_in_outlook(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    emu: MicrosoftEmulator,
    world: World,
    receiver: Receiver,
) -> None:
    await subscribe(client, auth)
    _, delta_link = await rounds(client, DELTA, auth)
    url = calendar_url(emu, world)
    added = await client.post(
        f"{url}/add",
        data={"subject": "Call the client", "date": "2026-05-06", "start": "14:30",
              "end": "15:00", "zone": "Eastern Standard Time", "location": "Phone"},
    )  # fmt: skip
    assert added.status_code == 303
    assert added.headers["location"].endswith(url)
    (event,) = emu.events(world.ann)
    assert event["subject"] == "Call the client"
    assert event["start"] == {"dateTime": "2026-05-06T18:30:00.0000000", "timeZone": "UTC"}
    pages, delta_link = await rounds(client, delta_link, auth)
    assert [e["subject"] for p in pages for e in p] == ["Call the client"]

    page = (await client.get(url)).text
    (target,) = re.findall(r"name='id' value='([^']+)'><input name='date'", page)
    moved = await client.post(
        f"{url}/move", data={"id": target, "date": "2026-05-07", "time": "16:00"}
    )
    assert moved.status_code == 303
    (event,) = emu.events(world.ann)
    assert event["start"]["dateTime"].startswith("2026-05-07T20:00:00")  # 16:00 New York
    assert event["end"]["dateTime"].startswith("2026-05-07T20:30:00")  # same length
    pages, delta_link = await rounds(client, delta_link, auth)
    assert [e["subject"] for p in pages for e in p] == ["Call the client"]

    deleted = await client.post(f"{url}/delete", data={"id": target})
    assert deleted.status_code == 303
    assert emu.events(world.ann) == []
    pages, _ = await rounds(client, delta_link, auth)
    assert [e.get("@removed", {}).get("reason") for p in pages for e in p] == ["deleted"]
    await emu.flush_notifications()
    changes = [n["value"][0]["changeType"] for n in receiver.notifications]
    assert changes == ["created", "updated", "deleted"]


async def test_moving_one_occurrence_makes_an_exception_and_bad_input_is_shown(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    made = await client.post("/v1.0/me/events", headers=auth, json=event_body(recurrence=WEEKLY))
    master: dict[str, Any] = made.json()
    url = calendar_url(emu, world)
    page = (await client.get(url)).text
    first, second = re.findall(r"name='id' value='([^']+)'><input name='date'", page)
    await client.post(f"{url}/move", data={"id": second, "date": "2026-05-12", "time": "11:00"})
    listed = await client.get(
        f"/v1.0/me/events/{master['id']}/instances",
        headers=auth,
        params={"startDateTime": "2026-05-01T00:00:00Z", "endDateTime": "2026-06-01T00:00:00Z"},
    )
    kinds = [(i["type"], i["start"]["dateTime"][:16]) for i in listed.json()["value"]]
    assert kinds == [("occurrence", "2026-05-04T07:00"), ("exception", "2026-05-12T09:00")]
    refused = await client.post(f"{url}/add", data={"subject": "No date", "date": ""})
    assert refused.status_code == 303
    assert "error=" in refused.headers["location"]
    shown = await client.get(refused.headers["location"])
    assert "Choose a date." in shown.text
    missing = await client.post(f"{url}/delete", data={"id": "nonsense"})
    assert "error=" in missing.headers["location"]
    assert first in (await client.get(url)).text
