"""The /_emulator admin surface and the fault, rate-budget, request-log and view features:
each Python API action is reachable over HTTP and answers in Google's formats."""

from __future__ import annotations

import httpx
from gemu_support import ALICE, CLIENT_ID, EVENTS, EVENTS_SCOPE, event, reason

from casecal.emulators.faults import Fault
from casecal.emulators.google import GoogleEmulator


async def test_throttle_fault_answers_429_with_retry_after(
    emu: GoogleEmulator, raw: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    fault = {"kind": "throttle", "reason": "rateLimitExceeded", "message": "Too many requests",
             "path": "/events", "times": 1, "retry_after": 7}  # fmt: skip
    assert (await raw.post("/_emulator/faults", json=fault)).status_code == 200
    r = await api.get(EVENTS)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert reason(r) == "rateLimitExceeded"
    assert r.json()["error"]["errors"][0]["domain"] == "usageLimits"
    assert (await api.get(EVENTS)).status_code == 200
    emu.faults.add(Fault(kind="error", status=503, reason="backendError", times=1))
    r = await api.get(EVENTS)
    assert r.status_code == 503
    assert reason(r) == "backendError"
    assert (await raw.post("/_emulator/faults", json={"bogus": 1})).status_code == 400
    assert (await raw.delete("/_emulator/faults")).status_code == 204
    assert emu.faults.faults == []


async def test_rate_budget_per_account(
    emu: GoogleEmulator, raw: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    r = await raw.post("/_emulator/rate-budget", json={"email": ALICE, "limit": 2, "window": 60})
    assert r.status_code == 204
    assert (await api.get(EVENTS)).status_code == 200
    assert (await api.get(EVENTS)).status_code == 200
    r = await api.get(EVENTS)
    assert r.status_code == 403
    assert reason(r) == "userRateLimitExceeded"
    emu.advance(61)
    assert (await api.get(EVENTS)).status_code == 200


async def test_request_log_records_account_and_status(
    raw: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    await api.post(EVENTS, json=event())
    await api.get(f"{EVENTS}/doesnotexist")
    log = (await raw.get("/_emulator/log")).json()
    calls = [
        (e["method"], e["status"], e["account"]) for e in log if e["path"].startswith("/calendar")
    ]
    assert calls == [("POST", 200, ALICE), ("GET", 404, ALICE)]


async def test_admin_http_mirrors_the_python_api(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    assert (
        await raw.post("/_emulator/accounts", json={"email": "bob@example.com", "name": "Bob"})
    ).status_code == 201
    cal = (
        await raw.post(
            "/_emulator/calendars", json={"email": "bob@example.com", "summary": "Court"}
        )
    ).json()["id"]
    assert cal.endswith("@group.calendar.google.com")
    tokens = (
        await raw.post(
            "/_emulator/tokens",
            json={"email": "bob@example.com", "client_id": CLIENT_ID, "scopes": [EVENTS_SCOPE]},
        )
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        await raw.get(f"/calendar/v3/calendars/{cal}/events", headers=bearer)
    ).status_code == 200
    made = await raw.post(f"/_emulator/calendars/{cal}/events", json=event("By phone"))
    assert made.status_code == 201
    event_id = made.json()["id"]
    patched = await raw.patch(
        f"/_emulator/calendars/{cal}/events/{event_id}", json={"summary": "Edited"}
    )
    assert patched.json()["summary"] == "Edited"
    assert [e["summary"] for e in emu.events(cal)] == ["Edited"]
    assert (await raw.delete(f"/_emulator/calendars/{cal}/events/{event_id}")).status_code == 204
    assert (await raw.get(f"/_emulator/calendars/{cal}/events")).json() == []
    assert (
        await raw.post("/_emulator/expire-sync-tokens", json={"calendar_id": cal})
    ).status_code == 204
    assert (
        await raw.post("/_emulator/revoke", json={"token": tokens["refresh_token"]})
    ).json() == {"revoked": True}
    assert (
        await raw.get(f"/calendar/v3/calendars/{cal}/events", headers=bearer)
    ).status_code == 401
    settings = (await raw.post("/_emulator/settings", json={"auto_approve": True})).json()
    assert settings["auto_approve"] is True
    assert emu.auto_approve is True
    clock = (await raw.post("/_emulator/clock", json={"seconds": 10})).json()
    assert clock["offset"] == 10


async def test_view_lists_calendars_and_escapes(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    emu.client_insert(ALICE, event("<script>alert(1)</script>"))
    index = await raw.get("/view/")
    assert index.status_code == 200
    assert ALICE in index.text
    page = await raw.get(f"/view/{ALICE}")
    assert page.status_code == 200
    assert "&lt;script&gt;" in page.text
    assert "<script>alert" not in page.text
