"""Operating the emulator: per-mailbox throttling (429 + Retry-After), fault injection with
Graph-format errors, the request log, the /_emulator admin surface, mounting under a prefix,
and the HTML calendar view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ms_support import CLIENT_ID, REDIRECT, SCOPES, SECRET, World, event_body
from starlette.applications import Starlette
from starlette.routing import Mount

from casecal.emulators.faults import Fault
from casecal.emulators.microsoft import MicrosoftEmulator


async def burst(client: httpx.AsyncClient, auth: dict[str, str], n: int) -> list[httpx.Response]:
    return list(
        await asyncio.gather(*(client.get("/v1.0/me/events", headers=auth) for _ in range(n)))
    )


async def test_fifth_concurrent_request_is_throttled_when_the_budget_is_on(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    emu.faults.add(Fault(kind="latency", delay=0.2, path="/me/events"))
    assert {r.status_code for r in await burst(client, auth, 5)} == {200}

    emu.set_throttling(world.ann)
    responses = await burst(client, auth, 5)
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 429]
    throttled = next(r for r in responses if r.status_code == 429)
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"
    assert "MailboxConcurrency" in throttled.json()["error"]["message"]


async def test_request_budget_per_window_and_per_mailbox(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    response = await client.post(f"/_emulator/users/{world.ann}/throttling", json={"per_window": 3})
    assert response.status_code == 204
    assert [
        r.status_code for r in [await client.get("/v1.0/me", headers=auth) for _ in range(4)]
    ] == [200, 200, 200, 429]
    limited = await client.get("/v1.0/me", headers=auth)
    assert 590 <= int(limited.headers["Retry-After"]) <= 600

    emu.add_user(world.user_tenant, "dan@contoso.com", "Dan Poe")
    dan = emu.issue_tokens("dan@contoso.com", CLIENT_ID, SCOPES)["access_token"]
    assert (
        await client.get("/v1.0/me", headers={"Authorization": f"Bearer {dan}"})
    ).status_code == 200

    emu.state.clock.advance(601)
    fresh = emu.issue_tokens("ann@contoso.com", CLIENT_ID, SCOPES)["access_token"]
    assert (
        await client.get("/v1.0/me", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200


async def test_faults_answer_in_graph_format_and_stop_after_times(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    armed = await client.post(
        "/_emulator/faults",
        json={
            "kind": "error",
            "status": 503,
            "reason": "serviceNotAvailable",
            "path": "/me/events",
            "times": 1,
        },
    )
    assert armed.status_code == 201
    failed = await client.get("/v1.0/me/events", headers=auth)
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "serviceNotAvailable"
    assert failed.json()["error"]["innerError"]["request-id"]
    assert (await client.get("/v1.0/me/events", headers=auth)).status_code == 200

    await client.post(
        "/_emulator/faults", json={"kind": "throttle", "retry_after": 7, "path": "/me", "times": 1}
    )
    throttled = await client.get("/v1.0/me", headers=auth)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    assert (await client.delete("/_emulator/faults")).status_code == 204


async def test_lost_response_then_retry_with_transaction_id_makes_one_event(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    emu.faults.add(Fault(kind="drop", method="POST", path="/me/events", times=1))
    body = event_body(transactionId="host-entry-1")
    assert (await client.post("/v1.0/me/events", headers=auth, json=body)).status_code == 502
    assert (await client.post("/v1.0/me/events", headers=auth, json=body)).status_code == 201
    assert len(emu.events(world.ann)) == 1


async def test_request_log_records_method_path_status_and_account(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator
) -> None:
    await client.get("/v1.0/me/events?$top=5", headers=auth)
    await client.get("/v1.0/me/nothing", headers=auth)
    entry = emu.log.matching("GET", "/me/events")[0]
    assert (entry.status, entry.account, entry.query) == (200, "ann@contoso.com", "$top=5")
    assert emu.log.count(path_contains="/me/nothing") == 1
    logged = (await client.get("/_emulator/log")).json()
    assert [e["status"] for e in logged[:2]] == [200, 400]


async def test_whole_setup_over_http(client: httpx.AsyncClient) -> None:
    tid = (
        await client.post(
            "/_emulator/tenants", json={"domain": "northwind.com", "admin_consent_required": True}
        )
    ).json()["tenant_id"]
    oid = (
        await client.post(
            "/_emulator/users", json={"tenant_id": tid, "upn": "eve@northwind.com", "name": "Eve"}
        )
    ).json()["oid"]
    await client.post(
        "/_emulator/apps",
        json={"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [REDIRECT]},
    )
    refused = await client.post(
        "/_emulator/tokens",
        json={"upn": "eve@northwind.com", "client_id": CLIENT_ID, "scopes": SCOPES},
    )
    assert refused.status_code == 400
    assert refused.json()["error_codes"] == [90094]
    await client.post(
        f"/_emulator/tenants/{tid}/consent-policy", json={"admin_consent_required": False}
    )
    tokens = (
        await client.post(
            "/_emulator/tokens",
            json={"upn": "eve@northwind.com", "client_id": CLIENT_ID, "scopes": SCOPES},
        )
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    cal = (await client.post(f"/_emulator/users/{oid}/calendars", json={"name": "Cases"})).json()[
        "id"
    ]
    assert (
        await client.post(f"/v1.0/me/calendars/{cal}/events", headers=auth, json=event_body())
    ).status_code == 201
    listed = (await client.get(f"/_emulator/users/{oid}/calendars/{cal}/events")).json()
    assert [e["subject"] for e in listed] == ["Interview"]
    state = (await client.get("/_emulator/state")).json()
    assert [u["upn"] for u in state["users"]] == ["eve@northwind.com"]
    assert (
        await client.post("/_emulator/users/nobody/calendars", json={"name": "x"})
    ).status_code == 404


@pytest.fixture
async def mounted(emu: MicrosoftEmulator) -> AsyncIterator[httpx.AsyncClient]:
    host = Starlette(routes=[Mount("/microsoft", app=emu.app)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_absolute_urls_carry_the_mount_prefix(
    mounted: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    for n in range(11):
        await mounted.post("/microsoft/v1.0/me/events", headers=auth, json=event_body(f"E{n}"))
    listing = (await mounted.get("/microsoft/v1.0/me/events", headers=auth)).json()
    assert listing["@odata.nextLink"].startswith("http://testserver/microsoft/v1.0/me/events?")
    assert (await mounted.get(listing["@odata.nextLink"], headers=auth)).status_code == 200
    config = (
        await mounted.get(f"/microsoft/{world.user_tenant}/v2.0/.well-known/openid-configuration")
    ).json()
    assert config["issuer"] == f"http://testserver/microsoft/{world.user_tenant}/v2.0"
    assert config["token_endpoint"].startswith("http://testserver/microsoft/")
    assert emu.log.entries[0].path == "/v1.0/me/events"

    emu.auto_approve = False
    page = await mounted.get(
        "/microsoft/common/oauth2/v2.0/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert "action='http://testserver/microsoft/common/oauth2/v2.0/authorize'" in page.text
    index = await mounted.get("/microsoft/view/")
    assert f"href='http://testserver/microsoft/view/{world.ann}/" in index.text

    emu.faults.add(Fault(kind="error", status=500))
    assert (await mounted.get("/microsoft/v1.0/me", headers=auth)).status_code == 500
    assert (await mounted.delete("/microsoft/_emulator/faults")).status_code == 204


async def test_html_view_of_each_calendar(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    emu.create_event_as_other(world.ann, event_body("Asylum <interview>", soon))
    index = await client.get("/view/")
    assert index.status_code == 200
    assert "ann@contoso.com" in index.text
    calendar_id = emu.state.users[world.ann].default_calendar_id
    page = await client.get(f"/view/{world.ann}/{calendar_id}")
    assert "Asylum &lt;interview&gt;" in page.text
    assert (await client.get(f"/view/{world.bob}/{calendar_id}")).status_code == 404
