"""Strictness of events.get/insert/patch/update/delete: ids, times, recurrence, etags and
preconditions, extended-property limits, tombstones, unknown fields and parameters, auth."""

from __future__ import annotations

import httpx
from gemu_support import ALICE, CLIENT_ID, EVENTS, event, reason

from casecal.emulators.google import GoogleEmulator


async def test_insert_returns_the_documented_resource(api: httpx.AsyncClient) -> None:
    r = await api.post(EVENTS, json=event("Intake"), params={"sendUpdates": "none"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "calendar#event"
    assert body["status"] == "confirmed"
    assert body["etag"].startswith('"')
    assert body["etag"].endswith('"')
    assert body["iCalUID"] == f"{body['id']}@google.com"
    assert body["start"] == {"dateTime": "2030-01-10T09:00:00Z"}
    assert body["htmlLink"].startswith("http://google.test/view/")
    got = await api.get(f"{EVENTS}/{body['id']}")
    assert got.json()["etag"] == body["etag"]


async def test_client_supplied_ids_follow_base32hex_rules(api: httpx.AsyncClient) -> None:
    good = "0123456789abcdefghijklmnopqrstuv"
    r = await api.post(EVENTS, json=event(id=good))
    assert r.status_code == 200
    assert r.json()["id"] == good
    for bad in ("abcd", "ABCDEF12345", "wxyz12345", "abc-defgh", "abc_defgh", "a" * 1025):
        r = await api.post(EVENTS, json=event(id=bad))
        assert r.status_code == 400, bad
        assert reason(r) == "invalid"
    dup = await api.post(EVENTS, json=event(id=good))
    assert dup.status_code == 409
    assert reason(dup) == "duplicate"
    assert (await api.delete(f"{EVENTS}/{good}")).status_code == 204
    reuse = await api.post(EVENTS, json=event(id=good))
    assert reuse.status_code == 409
    assert reason(reuse) == "duplicate"


async def test_times_are_validated(api: httpx.AsyncClient) -> None:
    empty = event()
    empty["end"] = empty["start"]
    r = await api.post(EVENTS, json=empty)
    assert r.status_code == 400
    assert reason(r) == "timeRangeEmpty"
    no_offset = event()
    no_offset["start"] = {"dateTime": "2030-01-10T09:00:00"}
    r = await api.post(EVENTS, json=no_offset)
    assert r.status_code == 400
    assert "time zone" in r.json()["error"]["message"]
    bad_zone = event()
    bad_zone["start"]["timeZone"] = "Mars/Olympus"
    assert (await api.post(EVENTS, json=bad_zone)).status_code == 400
    mixed = {"start": {"date": "2030-01-10"}, "end": {"dateTime": "2030-01-11T00:00:00Z"}}
    assert (await api.post(EVENTS, json=mixed)).status_code == 400
    missing = {"summary": "x", "start": {"date": "2030-01-10"}}
    r = await api.post(EVENTS, json=missing)
    assert r.status_code == 400
    assert reason(r) == "required"
    all_day = {"start": {"date": "2030-01-10"}, "end": {"date": "2030-01-11"}}
    r = await api.post(EVENTS, json=all_day)
    assert r.json()["start"] == {"date": "2030-01-10"}
    zoned = event()
    zoned["start"] = {"dateTime": "2030-07-01T09:00:00", "timeZone": "Europe/Zurich"}
    zoned["end"] = {"dateTime": "2030-07-01T08:00:00Z", "timeZone": "Europe/Zurich"}
    r = await api.post(EVENTS, json=zoned)
    assert r.json()["start"]["dateTime"] == "2030-07-01T09:00:00+02:00"
    assert r.json()["end"]["dateTime"] == "2030-07-01T10:00:00+02:00"


async def test_recurring_events_need_time_zones_and_clean_rules(api: httpx.AsyncClient) -> None:
    weekly = event(recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    r = await api.post(EVENTS, json=weekly)
    assert r.status_code == 400
    assert reason(r) == "required"
    weekly["start"]["timeZone"] = weekly["end"]["timeZone"] = "Europe/Zurich"
    assert (await api.post(EVENTS, json=weekly)).status_code == 200
    dtstart = dict(weekly, recurrence=["DTSTART:20300110T090000Z", "RRULE:FREQ=DAILY"])
    assert (await api.post(EVENTS, json=dtstart)).status_code == 400
    garbage = dict(weekly, recurrence=["RRULE:FREQ=SOMETIMES"])
    assert (await api.post(EVENTS, json=garbage)).status_code == 400


async def test_etags_change_and_preconditions_hold(api: httpx.AsyncClient) -> None:
    created = (await api.post(EVENTS, json=event())).json()
    url = f"{EVENTS}/{created['id']}"
    patched = await api.patch(url, json={"summary": "Moved"}, headers={"If-Match": created["etag"]})
    assert patched.status_code == 200
    assert patched.json()["etag"] != created["etag"]
    assert patched.json()["updated"] > created["updated"]
    stale = await api.patch(url, json={"summary": "Again"}, headers={"If-Match": created["etag"]})
    assert stale.status_code == 412
    assert reason(stale) == "conditionNotMet"
    stale_delete = await api.delete(url, headers={"If-Match": created["etag"]})
    assert stale_delete.status_code == 412
    fresh = patched.json()["etag"]
    assert (await api.get(url, headers={"If-None-Match": fresh})).status_code == 304
    assert (await api.get(url, headers={"If-None-Match": created["etag"]})).status_code == 200
    assert (await api.delete(url, headers={"If-Match": fresh})).status_code == 204


async def test_extended_properties_limits_and_patch_semantics(api: httpx.AsyncClient) -> None:
    long_key, ok_key = "k" * 45, "k" * 44
    props = {"private": {long_key: "dropped", ok_key: "v" * 1100, "csid": "abc"}}
    body = (await api.post(EVENTS, json=event(extendedProperties=props))).json()
    private = body["extendedProperties"]["private"]
    assert long_key not in private
    assert private[ok_key] == "v" * 1024
    url = f"{EVENTS}/{body['id']}"
    patch = {"extendedProperties": {"private": {ok_key: None, "extra": "1"}}}
    private = (await api.patch(url, json=patch)).json()["extendedProperties"]["private"]
    assert private == {"csid": "abc", "extra": "1"}
    full = (await api.get(url)).json()
    full.pop("extendedProperties")
    updated = (await api.put(url, json=full)).json()
    assert "extendedProperties" not in updated


async def test_patch_merges_and_update_replaces(api: httpx.AsyncClient) -> None:
    body = (await api.post(EVENTS, json=event(description="notes", location="Room 1"))).json()
    url = f"{EVENTS}/{body['id']}"
    patched = (await api.patch(url, json={"location": None})).json()
    assert "location" not in patched
    assert patched["description"] == "notes"
    replaced = (await api.put(url, json=event("Only"))).json()
    assert replaced["summary"] == "Only"
    assert "description" not in replaced
    assert replaced["sequence"] == 0
    moved = (await api.patch(url, json={"start": {"dateTime": "2030-01-10T08:00:00Z"}})).json()
    assert moved["sequence"] == 1
    to_date = await api.patch(url, json={"start": {"date": "2030-01-10"}})
    assert to_date.status_code == 400


async def test_delete_twice_is_410_deleted_and_get_shows_the_tombstone(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.post(EVENTS, json=event())).json()
    url = f"{EVENTS}/{body['id']}"
    assert (await api.delete(url, params={"sendUpdates": "all"})).status_code == 204
    again = await api.delete(url)
    assert again.status_code == 410
    assert reason(again) == "deleted"
    got = await api.get(url)
    assert got.status_code == 200
    assert got.json()["status"] == "cancelled"
    assert (await api.patch(url, json={"summary": "x"})).status_code == 410
    revived = await api.patch(url, json={"status": "confirmed"})
    assert revived.status_code == 200
    assert revived.json()["status"] == "confirmed"


async def test_unknown_things_are_rejected(api: httpx.AsyncClient) -> None:
    r = await api.post(EVENTS, json=event(colour="red"))
    assert r.status_code == 400
    r = await api.get(EVENTS, params={"synctoken": "x"})
    assert r.status_code == 400
    r = await api.post(EVENTS, json=event(), params={"sendUpdates": "everyone"})
    assert r.status_code == 400
    assert (await api.get(f"{EVENTS}/doesnotexist1")).status_code == 404
    r = await api.get("/calendar/v3/calendars/nobody@example.com/events")
    assert r.status_code == 404
    assert reason(r) == "notFound"
    r = await api.post(EVENTS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert reason(r) == "parseError"
    both = event(id="abcdefgh1", iCalUID="x@example.com")
    assert (await api.post(EVENTS, json=both)).status_code == 400


async def test_reminder_rules(api: httpx.AsyncClient) -> None:
    ok = {"useDefault": False, "overrides": [{"method": "popup", "minutes": 40320}]}
    assert (await api.post(EVENTS, json=event(reminders=ok))).status_code == 200
    too_far = {"useDefault": False, "overrides": [{"method": "popup", "minutes": 40321}]}
    assert (await api.post(EVENTS, json=event(reminders=too_far))).status_code == 400
    both = {"useDefault": True, "overrides": [{"method": "email", "minutes": 10}]}
    r = await api.post(EVENTS, json=event(reminders=both))
    assert reason(r) == "cannotUseDefaultRemindersAndSpecifyOverride"
    six = {"useDefault": False, "overrides": [{"method": "email", "minutes": i} for i in range(6)]}
    assert (await api.post(EVENTS, json=event(reminders=six))).status_code == 400


async def test_bearer_auth_and_scopes(
    emu: GoogleEmulator, raw: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    r = await raw.get(EVENTS)
    assert r.status_code == 401
    assert reason(r) == "authError"
    assert "invalid_token" in r.headers["WWW-Authenticate"]
    r = await raw.get(EVENTS, headers={"Authorization": "Bearer ya29.forged"})
    assert r.status_code == 401
    readonly = emu.issue_tokens(
        ALICE, CLIENT_ID, ["https://www.googleapis.com/auth/calendar.readonly"]
    )
    headers = {"Authorization": f"Bearer {readonly['access_token']}"}
    assert (await raw.get(EVENTS, headers=headers)).status_code == 200
    r = await raw.post(EVENTS, json=event(), headers=headers)
    assert r.status_code == 403
    assert reason(r) == "insufficientPermissions"
    emu.expire_access_tokens(ALICE)
    r = await api.get(EVENTS)
    assert r.status_code == 401
    assert reason(r) == "authError"


async def test_write_needs_writer_access(emu: GoogleEmulator, api: httpx.AsyncClient) -> None:
    shared = emu.add_calendar(ALICE, "Team (read only)", access_role="reader")
    url = f"/calendar/v3/calendars/{shared}/events"
    assert (await api.get(url)).status_code == 200
    r = await api.post(url, json=event())
    assert r.status_code == 403
    assert reason(r) == "requiredAccessLevel"


async def test_calendar_list_paging_roles_and_primary(
    emu: GoogleEmulator, api: httpx.AsyncClient
) -> None:
    for i in range(3):
        emu.add_calendar(ALICE, f"Extra {i}", access_role="writer" if i else "reader")
    page = (await api.get("/calendar/v3/users/me/calendarList", params={"maxResults": 2})).json()
    assert len(page["items"]) == 2
    assert "nextPageToken" in page
    rest = await api.get(
        "/calendar/v3/users/me/calendarList", params={"pageToken": page["nextPageToken"]}
    )
    items = page["items"] + rest.json()["items"]
    assert len(items) == 4
    assert "nextPageToken" not in rest.json()
    primary = [i for i in items if i.get("primary")]
    assert [p["id"] for p in primary] == [ALICE]
    assert primary[0]["accessRole"] == "owner"
    writable = await api.get(
        "/calendar/v3/users/me/calendarList", params={"minAccessRole": "writer"}
    )
    assert len(writable.json()["items"]) == 3
    assert (
        await api.get("/calendar/v3/users/me/calendarList", params={"maxResults": 251})
    ).status_code == 400
