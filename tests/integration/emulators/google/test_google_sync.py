"""events.list: paging, full and incremental sync with syncToken (forbidden parameters,
410 fullSyncRequired), windows, showDeleted, extended-property search, recurring series with
singleEvents, and the two meanings of cancelled tombstones."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gemu_support import ALICE, EVENTS, event, reason

from casecal.emulators.google import GoogleEmulator


async def list_all(api: httpx.AsyncClient, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every page of one round; returns the items and the final nextSyncToken."""
    items: list[dict[str, Any]] = []
    page_token = None
    while True:
        query = dict(params)
        if page_token:
            query["pageToken"] = page_token
        r = await api.get(EVENTS, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        page_token = body.get("nextPageToken")
        if not page_token:
            return items, body["nextSyncToken"]
        assert "nextSyncToken" not in body


def weekly(**extra: Any) -> dict[str, Any]:
    body = event("Weekly", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"], **extra)
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/Zurich"
    return body


async def test_paging_defaults_and_limits(emu: GoogleEmulator, api: httpx.AsyncClient) -> None:
    for i in range(260):
        emu.client_insert(ALICE, event(f"E{i}", day=1 + i % 28))
    first = (await api.get(EVENTS)).json()
    assert len(first["items"]) == 250
    assert "nextSyncToken" not in first
    items, token = await list_all(api, maxResults=100)
    assert len({i["id"] for i in items}) == 260
    assert token
    assert (await api.get(EVENTS, params={"maxResults": 2500})).status_code == 200
    for bad in (2501, 0, "ten"):
        r = await api.get(EVENTS, params={"maxResults": bad})
        assert r.status_code == 400, bad
    r = await api.get(EVENTS, params={"pageToken": "made-up"})
    assert r.status_code == 400


async def test_full_then_incremental_sync(emu: GoogleEmulator, api: httpx.AsyncClient) -> None:
    keep = (await api.post(EVENTS, json=event("Keep"))).json()
    gone = (await api.post(EVENTS, json=event("Gone", day=11))).json()
    items, token = await list_all(api)
    assert {i["id"] for i in items} == {keep["id"], gone["id"]}
    empty, token2 = await list_all(api, syncToken=token)
    assert empty == []
    await api.patch(f"{EVENTS}/{keep['id']}", json={"summary": "Kept"})
    await api.delete(f"{EVENTS}/{gone['id']}")
    other = emu.client_insert(ALICE, event("By another client", day=12))
    changes, token3 = await list_all(api, syncToken=token2, maxResults=1)
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {keep["id"], gone["id"], other["id"]}
    assert by_id[keep["id"]]["summary"] == "Kept"
    tomb = by_id[gone["id"]]
    assert tomb["status"] == "cancelled"
    assert "summary" not in tomb
    assert (await list_all(api, syncToken=token3))[0] == []
    again, _ = await list_all(api, syncToken=token2)
    assert {c["id"] for c in again} == set(by_id)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeMin", "2030-01-01T00:00:00Z"),
        ("timeMax", "2030-01-01T00:00:00Z"),
        ("q", "x"),
        ("orderBy", "updated"),
        ("updatedMin", "2030-01-01T00:00:00Z"),
        ("privateExtendedProperty", "csid=1"),
        ("sharedExtendedProperty", "a=1"),
        ("iCalUID", "x@google.com"),
        ("showDeleted", "false"),
    ],
)
async def test_sync_token_forbids_parameters(api: httpx.AsyncClient, name: str, value: str) -> None:
    _, token = await list_all(api)
    r = await api.get(EVENTS, params={"syncToken": token, name: value})
    assert r.status_code == 400
    assert reason(r) == "invalid"


async def test_expired_or_unknown_sync_token_is_410(
    emu: GoogleEmulator, api: httpx.AsyncClient
) -> None:
    _, token = await list_all(api)
    r = await api.get(EVENTS, params={"syncToken": "never-issued"})
    assert r.status_code == 410
    assert reason(r) == "fullSyncRequired"
    emu.expire_sync_tokens(ALICE)
    r = await api.get(EVENTS, params={"syncToken": token})
    assert r.status_code == 410
    assert reason(r) == "fullSyncRequired"
    _, fresh = await list_all(api)
    assert (await api.get(EVENTS, params={"syncToken": fresh})).status_code == 200
    r = await api.get(EVENTS, params={"syncToken": fresh, "singleEvents": "true"})
    assert r.status_code == 400


async def test_time_window_and_updated_min(emu: GoogleEmulator, api: httpx.AsyncClient) -> None:
    inside = (await api.post(EVENTS, json=event("In", day=10))).json()
    await api.post(EVENTS, json=event("Before", day=2))
    await api.post(EVENTS, json=event("After", day=20))
    window = {"timeMin": "2030-01-09T00:00:00Z", "timeMax": "2030-01-11T00:00:00+00:00"}
    items, _ = await list_all(api, **window)
    assert [i["id"] for i in items] == [inside["id"]]
    edge = {"timeMin": "2030-01-10T10:00:00Z"}
    assert inside["id"] not in {i["id"] for i in (await list_all(api, **edge))[0]}
    r = await api.get(
        EVENTS, params={"timeMin": "2030-01-11T00:00:00Z", "timeMax": "2030-01-09T00:00:00Z"}
    )
    assert reason(r) == "timeRangeEmpty"
    assert (await api.get(EVENTS, params={"timeMin": "2030-01-09T00:00:00"})).status_code == 400
    old = emu.clock.now_dt().replace(year=emu.clock.now_dt().year - 1).isoformat()
    r = await api.get(EVENTS, params={"updatedMin": old})
    assert r.status_code == 410
    assert reason(r) == "updatedMinTooLongAgo"


async def test_show_deleted_and_private_property_search(api: httpx.AsyncClient) -> None:
    tagged = event("Tagged", extendedProperties={"private": {"csid": "entry-1"}})
    a = (await api.post(EVENTS, json=tagged)).json()
    b = (await api.post(EVENTS, json=event("Other"))).json()
    await api.delete(f"{EVENTS}/{b['id']}")
    live, _ = await list_all(api)
    assert [i["id"] for i in live] == [a["id"]]
    everything, _ = await list_all(api, showDeleted="true")
    assert {i["id"] for i in everything} == {a["id"], b["id"]}
    found, _ = await list_all(api, privateExtendedProperty="csid=entry-1")
    assert [i["id"] for i in found] == [a["id"]]
    either, _ = await list_all(api, privateExtendedProperty=["csid=nothing", "csid=entry-1"])
    assert [i["id"] for i in either] == [a["id"]]
    assert (await api.get(EVENTS, params={"privateExtendedProperty": "novalue"})).status_code == 400


async def test_recurring_series_and_instances(api: httpx.AsyncClient) -> None:
    master = (await api.post(EVENTS, json=weekly(id="series0001"))).json()
    assert master["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]
    items, _ = await list_all(api, singleEvents="true", orderBy="startTime")
    ids = [i["id"] for i in items]
    assert ids == [
        "series0001_20300110T090000Z",
        "series0001_20300117T090000Z",
        "series0001_20300124T090000Z",
        "series0001_20300131T090000Z",
    ]
    assert all(i["recurringEventId"] == "series0001" for i in items)
    assert items[1]["originalStartTime"]["dateTime"] == "2030-01-17T10:00:00+01:00"
    r = await api.get(EVENTS, params={"orderBy": "startTime"})
    assert r.status_code == 400
    second = f"{EVENTS}/{ids[1]}"
    moved = await api.patch(second, json={"summary": "Moved one"})
    assert moved.status_code == 200
    assert moved.json()["recurringEventId"] == "series0001"
    assert (await api.delete(f"{EVENTS}/{ids[2]}")).status_code == 204
    expanded, _ = await list_all(api, singleEvents="true")
    assert [i["id"] for i in expanded if i["id"] == ids[1]] == [ids[1]]
    assert ids[2] not in {i["id"] for i in expanded}
    assert {i["summary"] for i in expanded if i["id"] == ids[1]} == {"Moved one"}
    # singleEvents=false: master + exceptions; a cancelled exception of a live series
    # comes back even with showDeleted=false (meaning 1: hide that occurrence).
    raw, _ = await list_all(api)
    by_id = {i["id"]: i for i in raw}
    assert set(by_id) == {"series0001", ids[1], ids[2]}
    assert by_id[ids[2]]["status"] == "cancelled"
    assert by_id[ids[2]]["recurringEventId"] == "series0001"
    assert "originalStartTime" in by_id[ids[2]]
    instances = await api.get(f"{EVENTS}/series0001/instances")
    assert len(instances.json()["items"]) == 3
    assert (await api.get(f"{EVENTS}/series0001_20300111T090000Z")).status_code == 404


async def test_deleting_a_series_is_a_real_deletion(api: httpx.AsyncClient) -> None:
    await api.post(EVENTS, json=weekly(id="series0002"))
    await api.delete(f"{EVENTS}/series0002_20300117T090000Z")
    _, token = await list_all(api)
    assert (await api.delete(f"{EVENTS}/series0002")).status_code == 204
    changes, _ = await list_all(api, syncToken=token)
    by_id = {c["id"]: c for c in changes}
    assert by_id["series0002"]["status"] == "cancelled"
    assert "recurrence" not in by_id["series0002"]
    live, _ = await list_all(api)
    assert live == []
    r = await api.get(f"{EVENTS}/series0002_20300124T090000Z")
    assert r.status_code == 410


async def test_incremental_single_events_expand_changed_series(
    emu: GoogleEmulator, api: httpx.AsyncClient
) -> None:
    _, token = await list_all(api, singleEvents="true")
    emu.client_insert(ALICE, weekly(id="series0003"))
    changes, _ = await list_all(api, syncToken=token, singleEvents="true")
    assert len(changes) == 4
    assert all(c["recurringEventId"] == "series0003" for c in changes)


async def test_purged_tombstones_expire_sync_tokens(
    emu: GoogleEmulator, api: httpx.AsyncClient
) -> None:
    body = (await api.post(EVENTS, json=event())).json()
    _, token = await list_all(api)
    await api.delete(f"{EVENTS}/{body['id']}")
    assert emu.purge_tombstones(ALICE) == 1
    r = await api.get(EVENTS, params={"syncToken": token})
    assert r.status_code == 410
