"""What is CalDAV's own, on Radicale and Xandikos: a token the server no longer knows and the
full round after it (nothing lost, nothing reported removed); a write over another client's
change (412); our own resource recognised after a crash between the PUT and saving the link;
a no-op pass of one request (sync-collection, and the ctag fallback); discovery through
/.well-known/caldav; a refused app password; the VEVENT calendars only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from caldav_harness import ELSEWHERE, ICS, CalDavHarness, FaultTransport
from contract_harness import Receiver, make_event

from casecal.emulators.caldav_servers import CalDavServer
from casecal.providers import AuthExpired, ChangePage, CursorExpired, PreconditionFailed
from casecal.providers.caldav import BasicCredentials, CalDavProvider
from casecal.providers.caldav.ical import resource_name

pytestmark = pytest.mark.parametrize("caldav_server", ["radicale", "xandikos"], indirect=True)


@pytest.fixture
async def caldav(caldav_server: CalDavServer) -> AsyncIterator[CalDavHarness]:
    faults = FaultTransport(httpx.AsyncHTTPTransport(verify=caldav_server.verify))
    async with httpx.AsyncClient(transport=faults) as client:
        yield CalDavHarness(client, Receiver(), faults, caldav_server)


async def rounds(p: CalDavProvider, cal: str, cursor: str | None) -> list[ChangePage]:
    return [page async for page in p.changes(cal, cursor)]


async def test_an_expired_token_then_a_full_round_that_loses_nothing(
    caldav: CalDavHarness,
) -> None:
    p, cal = caldav.build(), caldav.calendar_id
    kept = await p.create_event(cal, make_event("Kept"), caldav.tag())
    cursor = (await rounds(p, cal, None))[-1].cursor
    caldav.expire_cursors()  # another client adds an event; the server forgets its tokens
    with pytest.raises(CursorExpired) as caught:
        await rounds(p, cal, cursor)
    assert caught.value.reason == "valid-sync-token"
    assert caught.value.status == {"radicale": 403, "xandikos": 412}[caldav.server.kind]
    full = await rounds(p, cal, None)
    assert all(page.full for page in full)
    assert [i for page in full for i in page.removed] == [], "a full round reports no removal"
    titles = {e.event.title for page in full for e in page.events if e.event is not None}
    assert titles == {"Kept", "Made elsewhere"}
    ours = [e for page in full for e in page.events if e.id == kept.id]
    assert ours[0].tag is not None
    assert full[-1].cursor is not None
    assert await rounds(p, cal, full[-1].cursor) == [ChangePage([], [], full[-1].cursor)]


async def test_a_write_over_another_clients_change_is_precondition_failed(
    caldav: CalDavHarness,
) -> None:
    p, cal = caldav.build(), caldav.calendar_id
    tag = caldav.tag()
    made = await p.create_event(cal, make_event("Ours"), tag)
    theirs = ELSEWHERE.replace(b"UID:elsewhere-1", f"UID:{resource_name(tag)[:-4]}".encode())
    with caldav.server.client() as http:  # another client edits the event
        answer = http.put(
            httpx.URL(cal).join(made.id), content=theirs, headers={**ICS, "If-Match": made.etag}
        )
        assert answer.status_code in (200, 201, 204)
    with pytest.raises(PreconditionFailed):
        await p.update_event(cal, made.id, make_event("Stale"), tag, etag=made.etag)
    with pytest.raises(PreconditionFailed):
        await p.delete_event(cal, made.id, etag=made.etag)
    assert caldav.stored_titles() == ["Made elsewhere"]
    fresh = await p.get_event(cal, made.id)
    updated = await p.update_event(cal, made.id, make_event("Merged"), tag, etag=fresh.etag)
    assert updated.etag != fresh.etag
    assert caldav.stored_titles() == ["Merged"]


async def test_our_resource_is_recognised_after_a_crash_between_put_and_commit(
    caldav: CalDavHarness,
) -> None:
    cal = caldav.calendar_id
    tag = caldav.tag()
    before_crash = caldav.build()
    written = await before_crash.create_event(cal, make_event("Hearing"), tag)
    # The process dies here: the link to ``written.id`` was never saved. A new process:
    after = caldav.build()
    found = await after.find_event(cal, tag)
    assert found is not None
    assert (found.id, found.tag, found.etag) == (written.id, tag, written.etag)
    caldav.sent.clear()
    again = await after.create_event(cal, make_event("Hearing"), tag)
    assert again.reused
    assert (again.id, again.etag) == (written.id, written.etag)
    puts = [r for r in caldav.sent if r.method == "PUT"]
    assert [r.headers.get("if-none-match") for r in puts] == ["*"], "one conditional create"
    assert caldav.stored_titles() == ["Hearing"]
    other = caldav.tag()
    assert await after.find_event(cal, other) is None


async def test_a_no_op_pass_is_one_request(caldav: CalDavHarness) -> None:
    p, cal = caldav.build(), caldav.calendar_id
    await p.create_event(cal, make_event(), caldav.tag())
    cursor = (await rounds(p, cal, None))[-1].cursor
    caldav.sent.clear()
    pages = await rounds(p, cal, cursor)
    assert pages == [ChangePage([], [], pages[-1].cursor)]
    assert [(r.method, r.headers.get("depth")) for r in caldav.sent] == [("REPORT", "0")]


async def test_the_ctag_listing_where_sync_collection_is_not_used(caldav: CalDavHarness) -> None:
    p, cal = caldav.build(use_sync_collection=False), caldav.calendar_id
    made = await p.create_event(cal, make_event("First"), caldav.tag())
    full = await rounds(p, cal, None)
    assert {e.id for page in full for e in page.events} == {made.id}
    cursor = full[-1].cursor
    assert cursor is not None
    assert cursor.startswith("ctag:")
    caldav.sent.clear()
    assert await rounds(p, cal, cursor) == [ChangePage([], [], cursor)]
    assert [r.method for r in caldav.sent] == ["PROPFIND"], "an unchanged ctag: one request"
    tag = caldav.tag()
    second = await p.create_event(cal, make_event("Second"), tag)
    await p.delete_event(cal, made.id, etag=made.etag)
    pages = await rounds(p, cal, cursor)
    assert [e.id for page in pages for e in page.events] == [second.id]
    assert [i for page in pages for i in page.removed] == [made.id]
    assert not any(page.full for page in pages)


async def test_discovery_through_the_well_known_url(caldav: CalDavHarness) -> None:
    server = caldav.server
    lost = CalDavProvider(
        caldav.client,
        BasicCredentials(server.username, server.password),
        server_url=server.url + "no/such/context/",
        username=server.username,
    )
    me = await lost.identity()
    assert me.email == server.username
    assert [c.id for c in await lost.list_calendars()] == [caldav.calendar_id]


async def test_a_refused_app_password_is_auth_expired_at_once(caldav: CalDavHarness) -> None:
    server = caldav.server
    wrong = CalDavProvider(
        caldav.client,
        BasicCredentials(server.username, "not-the-app-password"),
        server_url=server.url,
        sleep=caldav.sleep,
    )
    with pytest.raises(AuthExpired) as caught:
        await wrong.list_calendars()
    assert caldav.sleep.waits == []
    assert "not-the-app-password" not in repr(caught.value) + str(caught.value)


async def test_only_calendars_that_take_events_are_offered(caldav: CalDavHarness) -> None:
    server = caldav.server
    tasks = server.calendar_url.rstrip("/").rsplit("/", 1)[0] + f"/tasks-{uuid.uuid4().hex[:6]}/"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
        "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
    )
    with server.client() as http:
        made = http.request(
            "MKCALENDAR", tasks, content=body.encode(), headers={"Content-Type": "application/xml"}
        )
        assert made.status_code == 201
    try:
        ids = [c.id for c in await caldav.build().list_calendars()]
        assert ids == [caldav.calendar_id]
    finally:
        with server.client() as http:
            http.request("DELETE", tasks)
