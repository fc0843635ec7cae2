"""Graph events CRUD strictness: transactionId de-duplication, changeKey/@odata.etag and
If-Match, named extended properties only through $expand, ImmutableId, outlook.timezone,
bodies, isAllDay rules, unknown or read-only properties, paging, calendars and mailboxes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ms_support import World, event_body

from casecal.emulators.microsoft import MicrosoftEmulator

TAG = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name casecalTag"


def any_filter(prop_id: str, value: str) -> str:
    return f"singleValueExtendedProperties/Any(ep: ep/id eq '{prop_id}' and ep/value eq '{value}')"


EXPAND = f"singleValueExtendedProperties($filter=id eq '{TAG}')"


async def create(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    body: dict[str, Any],
    path: str = "/v1.0/me/events",
) -> dict[str, Any]:
    response = await client.post(path, headers=auth, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_create_then_get_carries_change_key_and_weak_etag(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await create(client, auth, event_body())
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    assert event["type"] == "singleInstance"
    fetched = (await client.get(f"/v1.0/me/events/{event['id']}", headers=auth)).json()
    assert fetched["changeKey"] == event["changeKey"]
    assert fetched["start"] == {"dateTime": "2026-05-04T07:00:00.0000000", "timeZone": "UTC"}
    assert fetched["originalStartTimeZone"] == "W. Europe Standard Time"
    assert "transactionId" not in fetched


async def test_same_transaction_id_returns_the_first_event(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    first = await create(client, auth, event_body(transactionId="tx-1"))
    again = await create(client, auth, event_body("Other subject", transactionId="tx-1"))
    assert again["id"] == first["id"]
    assert again["subject"] == "Interview"
    assert again["transactionId"] == "tx-1"
    assert len(emu.events(world.ann)) == 1


async def test_transaction_id_cannot_change(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await create(client, auth, event_body(transactionId="tx-1"))
    response = await client.patch(
        f"/v1.0/me/events/{event['id']}", headers=auth, json={"transactionId": "tx-2"}
    )
    assert response.status_code == 400


async def test_if_match_stale_change_key_is_412(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await create(client, auth, event_body())
    url = f"/v1.0/me/events/{event['id']}"
    ok = await client.patch(
        url, headers={**auth, "If-Match": event["@odata.etag"]}, json={"subject": "A"}
    )
    assert ok.status_code == 200
    assert ok.json()["changeKey"] != event["changeKey"]
    stale = await client.patch(
        url, headers={**auth, "If-Match": event["@odata.etag"]}, json={"subject": "B"}
    )
    assert stale.status_code == 412
    assert error_code(stale) == "ErrorIrresolvableConflict"
    stale_delete = await client.delete(url, headers={**auth, "If-Match": event["@odata.etag"]})
    assert stale_delete.status_code == 412
    assert (await client.get(url, headers=auth)).json()["subject"] == "A"


async def test_delete_twice_is_not_found(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    event = await create(client, auth, event_body())
    url = f"/v1.0/me/events/{event['id']}"
    assert (await client.delete(url, headers=auth)).status_code == 204
    again = await client.delete(url, headers=auth)
    assert again.status_code == 404
    assert error_code(again) == "ErrorItemNotFound"


async def test_extended_properties_only_through_expand(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    tagged = event_body(singleValueExtendedProperties=[{"id": TAG, "value": "entry-42"}])
    event = await create(client, auth, tagged)
    assert "singleValueExtendedProperties" not in event
    url = f"/v1.0/me/events/{event['id']}"
    plain = (await client.get(url, headers=auth)).json()
    assert "singleValueExtendedProperties" not in plain
    expanded = (await client.get(url, headers=auth, params={"$expand": EXPAND})).json()
    assert expanded["singleValueExtendedProperties"] == [{"id": TAG, "value": "entry-42"}]
    unfiltered = await client.get(
        url, headers=auth, params={"$expand": "singleValueExtendedProperties"}
    )
    assert unfiltered.status_code == 400

    await client.patch(
        url,
        headers=auth,
        json={"singleValueExtendedProperties": [{"id": TAG, "value": "entry-43"}]},
    )
    expanded = (await client.get(url, headers=auth, params={"$expand": EXPAND})).json()
    assert expanded["singleValueExtendedProperties"][0]["value"] == "entry-43"


async def test_filter_on_extended_property_value_is_case_insensitive_name_is_not(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await create(
        client, auth, event_body(singleValueExtendedProperties=[{"id": TAG, "value": "Entry-42"}])
    )
    await create(client, auth, event_body("Untagged"))
    found = await client.get(
        "/v1.0/me/events",
        headers=auth,
        params={"$filter": any_filter(TAG, "entry-42")},
    )
    assert [e["subject"] for e in found.json()["value"]] == ["Interview"]
    other_case = TAG.replace("casecalTag", "CasecalTag")
    none = await client.get(
        "/v1.0/me/events",
        headers=auth,
        params={"$filter": any_filter(other_case, "entry-42")},
    )
    assert none.json()["value"] == []


async def test_immutable_ids_survive_a_move_default_ids_do_not(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    immutable = {**auth, "Prefer": 'IdType="ImmutableId"'}
    event = await create(client, immutable, event_body())
    default_id = (await client.get(f"/v1.0/me/events/{event['id']}", headers=auth)).json()["id"]
    assert default_id != event["id"]
    other = emu.add_calendar(world.ann, "Cases")
    emu.move_event(world.ann, event["id"], other)
    moved = await client.get(f"/v1.0/me/events/{event['id']}", headers=immutable)
    assert moved.json()["id"] == event["id"]
    assert (await client.get(f"/v1.0/me/events/{default_id}", headers=auth)).status_code == 404


async def test_outlook_timezone_preference(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    event = await create(client, auth, event_body())
    url = f"/v1.0/me/events/{event['id']}"
    pacific = await client.get(
        url, headers={**auth, "Prefer": 'outlook.timezone="Pacific Standard Time"'}
    )
    assert pacific.json()["start"] == {
        "dateTime": "2026-05-04T00:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert "outlook.timezone" in pacific.headers["Preference-Applied"]
    iana = await client.get(url, headers={**auth, "Prefer": 'outlook.timezone="Asia/Tokyo"'})
    assert iana.json()["end"]["dateTime"] == "2026-05-04T17:00:00.0000000"
    unknown = await client.get(url, headers={**auth, "Prefer": 'outlook.timezone="Mars/Olympus"'})
    assert unknown.status_code == 400
    assert error_code(unknown) == "TimeZoneNotSupportedException"


async def test_bodies_are_html_unless_text_is_preferred(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    event = await create(
        client,
        auth,
        event_body(body={"contentType": "text", "content": "Bring <passport>\nand form"}),
    )
    assert event["body"]["contentType"] == "html"
    assert "&lt;passport&gt;" in event["body"]["content"]
    url = f"/v1.0/me/events/{event['id']}"
    text = (
        await client.get(url, headers={**auth, "Prefer": 'outlook.body-content-type="text"'})
    ).json()
    assert text["body"] == {"contentType": "text", "content": "Bring <passport>\nand form"}
    html_event = await create(
        client, auth, event_body(body={"contentType": "HTML", "content": "<p>Room&nbsp;4</p>"})
    )
    as_text = await client.get(
        f"/v1.0/me/events/{html_event['id']}",
        headers={**auth, "Prefer": 'outlook.body-content-type="text"'},
    )
    assert as_text.json()["body"]["content"] == "Room\xa04"
    assert html_event["bodyPreview"] == "Room\xa04"


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("2026-05-04T00:00:00", "2026-05-05T00:00:00", True),
        ("2026-05-04T00:00:00", "2026-05-07T00:00:00", True),
        ("2026-05-04T09:00:00", "2026-05-05T00:00:00", False),
        ("2026-05-04T00:00:00", "2026-05-04T00:00:00", False),
    ],
)
async def test_all_day_events_must_span_midnights(
    client: httpx.AsyncClient, auth: dict[str, str], start: str, end: str, ok: bool
) -> None:
    body = {
        "subject": "Court date",
        "isAllDay": True,
        "start": {"dateTime": start, "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": end, "timeZone": "Eastern Standard Time"},
    }
    response = await client.post("/v1.0/me/events", headers=auth, json=body)
    assert response.status_code == (201 if ok else 400), response.text
    if ok:
        assert response.json()["start"] == {"dateTime": f"{start}.0000000", "timeZone": "UTC"}
        assert response.json()["isAllDay"] is True


async def test_all_day_zones_must_match(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = {
        "isAllDay": True,
        "start": {"dateTime": "2026-05-04T00:00:00", "timeZone": "Eastern Standard Time"},
        "end": {"dateTime": "2026-05-05T00:00:00", "timeZone": "UTC"},
    }
    assert (await client.post("/v1.0/me/events", headers=auth, json=body)).status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"colour": "red"}, "RequestBodyRead"),
        ({"changeKey": "x"}, "ErrorInvalidPropertyForOperation"),
        ({"showAs": "maybe"}, "ErrorInvalidRequest"),
        (
            {
                "start": {
                    "dateTime": "2026-05-04T09:00:00+02:00",
                    "timeZone": "Pacific Standard Time",
                }
            },
            "ErrorInvalidRequest",
        ),
        (
            {"start": {"dateTime": "2026-05-04T09:00:00", "timeZone": "Nowhere Standard Time"}},
            "TimeZoneNotSupportedException",
        ),
        (
            {"end": {"dateTime": "2026-05-04T08:00:00", "timeZone": "W. Europe Standard Time"}},
            "ErrorInvalidRequest",
        ),
    ],
)
async def test_invalid_writes_are_refused(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], code: str
) -> None:
    response = await client.post("/v1.0/me/events", headers=auth, json={**event_body(), **body})
    assert response.status_code == 400, response.text
    assert error_code(response) == code
    assert response.json()["error"]["innerError"]["request-id"]


async def test_create_needs_start_and_end(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/v1.0/me/events", headers=auth, json={"subject": "No time"})
    assert response.status_code == 400


async def test_location_replaces_locations(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    event = await create(client, auth, event_body(location={"displayName": "Court 3"}))
    assert event["location"]["displayName"] == "Court 3"
    assert [loc["displayName"] for loc in event["locations"]] == ["Court 3"]


async def test_list_pages_ten_by_default(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for n in range(12):
        await create(client, auth, event_body(f"E{n}"))
    first = (await client.get("/v1.0/me/events", headers=auth)).json()
    assert len(first["value"]) == 10
    second = (await client.get(first["@odata.nextLink"], headers=auth)).json()
    assert [e["subject"] for e in second["value"]] == ["E10", "E11"]
    assert "@odata.nextLink" not in second


async def test_calendars_and_calendar_scoped_paths(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    cases = emu.add_calendar(world.ann, "Cases")
    calendars = (await client.get("/v1.0/me/calendars", headers=auth)).json()["value"]
    assert {(c["name"], c["isDefaultCalendar"], c["canEdit"]) for c in calendars} == {
        ("Calendar", True, True),
        ("Cases", False, True),
    }
    event = await create(client, auth, event_body(), f"/v1.0/me/calendars/{cases}/events")
    assert (
        await client.get(f"/v1.0/me/calendars/{cases}/events/{event['id']}", headers=auth)
    ).status_code == 200
    assert (
        await client.get(f"/v1.0/me/calendar/events/{event['id']}", headers=auth)
    ).status_code == 404
    assert (await client.get("/v1.0/me/events", headers=auth)).json()["value"] == []
    assert len(emu.events(world.ann, cases)) == 1


async def test_users_path_is_the_signed_in_mailbox_only(
    client: httpx.AsyncClient, auth: dict[str, str], world: World
) -> None:
    assert (await client.get("/v1.0/users/ann@contoso.com/events", headers=auth)).status_code == 200
    assert (await client.get(f"/v1.0/users/{world.ann}/calendars", headers=auth)).status_code == 200
    other = await client.get(f"/v1.0/users/{world.bob}/events", headers=auth)
    assert other.status_code == 403


async def test_unknown_segments_and_methods(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    unknown = await client.get("/v1.0/me/nonsense", headers=auth)
    assert unknown.status_code == 400
    assert error_code(unknown) == "BadRequest"
    assert (await client.put("/v1.0/me/events", headers=auth, json={})).status_code == 405


async def test_edits_by_another_client_change_the_change_key(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    event = await create(client, auth, event_body())
    emu.update_event_as_other(world.ann, event["id"], {"subject": "Moved by assistant"})
    stale = await client.patch(
        f"/v1.0/me/events/{event['id']}",
        headers={**auth, "If-Match": event["@odata.etag"]},
        json={"subject": "Mine"},
    )
    assert stale.status_code == 412
    over_http = await client.post(
        f"/_emulator/users/{world.ann}/events", json=event_body("From phone")
    )
    assert over_http.status_code == 201
    assert {e["subject"] for e in emu.events(world.ann)} == {"Moved by assistant", "From phone"}
