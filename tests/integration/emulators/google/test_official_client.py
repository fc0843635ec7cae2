"""The official google-api-python-client, built from its bundled Calendar v3 discovery
document and pointed at the emulator (served by uvicorn on a loopback port, under a mount
prefix), lists, inserts, patches, deletes, batches and runs a full + incremental sync."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from gemu_support import ALICE, CLIENT_ID, CLIENT_SECRET, EVENTS_SCOPE, LIST_SCOPE, REDIRECT, event
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
from starlette.applications import Starlette
from starlette.routing import Mount

from casecal.emulators.google import GoogleEmulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, str]]:
    emu = GoogleEmulator(seed=3)
    emu.add_account(ALICE, name="Alice")
    emu.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
    port = free_port()
    app = Starlette(routes=[Mount("/google", app=emu.app)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield emu, f"http://127.0.0.1:{port}/google"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def calendar(served: tuple[GoogleEmulator, str]) -> Iterator[Any]:
    emu, base = served
    token = emu.issue_tokens(ALICE, CLIENT_ID, [EVENTS_SCOPE, LIST_SCOPE])["access_token"]
    credentials = Credentials(token=token)  # type: ignore[no-untyped-call]
    service = build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": base + "/calendar/v3/"},
    )
    yield service
    service.close()


def full_sync(calendar: Any, **params: Any) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    page_token = None
    while True:
        page = (
            calendar.events().list(calendarId="primary", pageToken=page_token, **params).execute()
        )
        items += page.get("items", [])
        page_token = page.get("nextPageToken")
        if not page_token:
            return items, page["nextSyncToken"]


def test_lists_inserts_patches_deletes_and_syncs(
    served: tuple[GoogleEmulator, str], calendar: Any
) -> None:
    emu, base = served
    entries = calendar.calendarList().list().execute()["items"]
    assert [e["id"] for e in entries if e.get("primary")] == [ALICE]

    created = []
    for i in range(3):
        body = event(f"Hearing {i}", day=10 + i, id=f"officialclient{i:02d}")
        created.append(
            calendar.events().insert(calendarId="primary", body=body, sendUpdates="none").execute()
        )
    assert created[0]["id"] == "officialclient00"
    with pytest.raises(HttpError) as dup:
        calendar.events().insert(calendarId="primary", body=event(id="officialclient00")).execute()
    assert dup.value.resp.status == 409

    items, sync_token = full_sync(calendar, maxResults=2)
    assert {i["id"] for i in items} == {c["id"] for c in created}

    patched = (
        calendar.events()
        .patch(calendarId="primary", eventId="officialclient01", body={"summary": "Moved hearing"})
        .execute()
    )
    assert patched["etag"] != created[1]["etag"]
    calendar.events().delete(calendarId="primary", eventId="officialclient02").execute()
    with pytest.raises(HttpError) as gone:
        calendar.events().delete(calendarId="primary", eventId="officialclient02").execute()
    assert gone.value.resp.status == 410
    emu.client_insert(ALICE, event("Added on the phone", day=20))

    page = calendar.events().list(calendarId="primary", syncToken=sync_token).execute()
    changes = {c["id"]: c for c in page["items"]}
    assert changes["officialclient01"]["summary"] == "Moved hearing"
    assert changes["officialclient02"]["status"] == "cancelled"
    assert any(c.get("summary") == "Added on the phone" for c in changes.values())
    assert page["nextSyncToken"]

    emu.expire_sync_tokens(ALICE)
    with pytest.raises(HttpError) as expired:
        calendar.events().list(calendarId="primary", syncToken=page["nextSyncToken"]).execute()
    assert expired.value.resp.status == 410
    assert "fullSyncRequired" in expired.value.content.decode()

    answers: dict[str, Any] = {}

    def collect(request_id: str, response: Any, exception: Exception | None) -> None:
        answers[request_id] = exception or response

    batch = BatchHttpRequest(callback=collect, batch_uri=base + "/batch/calendar/v3")
    batch.add(
        calendar.events().get(calendarId="primary", eventId="officialclient00"), request_id="a"
    )
    batch.add(
        calendar.events().insert(calendarId="primary", body=event("Batched", day=25)),
        request_id="b",
    )
    batch.add(calendar.events().get(calendarId="primary", eventId="nosuchevent"), request_id="c")
    batch.execute()
    assert answers["a"]["id"] == "officialclient00"
    assert answers["b"]["summary"] == "Batched"
    assert isinstance(answers["c"], HttpError)
    assert answers["c"].resp.status == 404
