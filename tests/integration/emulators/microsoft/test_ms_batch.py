"""JSON $batch: limits and validation, dependsOn ordering with 424 for dependants of a failed
part, per-part status, and parts counted one by one toward the mailbox's throttling budget."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ms_support import CLIENT_ID, World, event_body

from casecal.emulators.microsoft import MicrosoftEmulator

JSON = {"Content-Type": "application/json"}


def get(pid: str, url: str = "/me/events", **extra: Any) -> dict[str, Any]:
    return {"id": pid, "method": "GET", "url": url, **extra}


def post(pid: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "method": "POST",
        "url": "/me/events",
        "headers": JSON,
        "body": body,
        **extra,
    }


async def batch(
    client: httpx.AsyncClient, auth: dict[str, str], parts: list[dict[str, Any]]
) -> httpx.Response:
    return await client.post("/v1.0/$batch", headers=auth, json={"requests": parts})


def by_id(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {part["id"]: part for part in response.json()["responses"]}


async def test_parallel_parts_each_get_their_status(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    parts = by_id(
        await batch(
            client, auth, [post("1", event_body("A")), get("2", "/me"), get("3", "/me/events/nope")]
        )
    )
    assert parts["1"]["status"] == 201
    assert parts["1"]["body"]["subject"] == "A"
    assert parts["2"]["body"]["userPrincipalName"] == "ann@contoso.com"
    assert parts["3"]["status"] == 404
    assert parts["3"]["body"]["error"]["code"] == "ErrorItemNotFound"


async def test_depends_on_orders_parts_and_failures_cascade_as_424(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    ok = by_id(
        await batch(
            client,
            auth,
            [
                get("3", dependsOn=["2"]),
                post("1", event_body("First")),
                post("2", event_body("Second"), dependsOn=["1"]),
            ],
        )
    )
    assert [ok[p]["status"] for p in ("1", "2", "3")] == [201, 201, 200]
    assert [e["subject"] for e in ok["3"]["body"]["value"]] == ["First", "Second"]

    failed = by_id(
        await batch(
            client,
            auth,
            [
                post("1", {"subject": "no times"}),
                post("2", event_body("C"), dependsOn=["1"]),
                get("3", dependsOn=["2"]),
            ],
        )
    )
    assert [failed[p]["status"] for p in ("1", "2", "3")] == [400, 424, 424]
    assert len(emu.events(world.ann)) == 2


@pytest.mark.parametrize(
    "parts",
    [
        [get(str(n)) for n in range(21)],
        [],
        [get("1"), get("1")],
        [{"id": "1", "method": "POST", "url": "/me/events", "body": {"subject": "x"}}],
        [get("1"), get("2", dependsOn=["1"]), get("3")],
        [get("1", dependsOn=["9"]), get("2")],
        [get("1", "https://graph.microsoft.com/v1.0/me")],
        [{"id": "1", "method": "TRACE", "url": "/me"}],
    ],
    ids=[
        "over-20",
        "empty",
        "duplicate-id",
        "body-without-content-type",
        "mixed",
        "unknown-dependency",
        "absolute-url",
        "bad-method",
    ],
)
async def test_invalid_batches_are_refused_whole(
    client: httpx.AsyncClient, auth: dict[str, str], parts: list[dict[str, Any]]
) -> None:
    response = await batch(client, auth, parts)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


async def test_twenty_parts_are_fine(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    parts = by_id(await batch(client, auth, [get(str(n)) for n in range(20)]))
    assert {p["status"] for p in parts.values()} == {200}


async def test_batch_needs_a_token_and_no_nesting(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.post("/v1.0/$batch", json={"requests": [get("1")]})).status_code == 401
    nested = by_id(
        await batch(
            client,
            auth,
            [{"id": "1", "method": "POST", "url": "/$batch", "headers": JSON, "body": {}}],
        )
    )
    assert nested["1"]["status"] == 400


async def test_parallel_parts_run_four_at_a_time_within_the_mailbox_concurrency(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    """Graph sends the Outlook service at most four parts of an unordered batch at a time, so
    a parallel batch of 20 stays within the mailbox's four concurrent requests."""
    emu.set_throttling(world.ann)
    parallel = by_id(await batch(client, auth, [get(str(n)) for n in range(20)]))
    assert {p["status"] for p in parallel.values()} == {200}
    assert emu.throttle.peak[(CLIENT_ID, world.ann)] == 4

    chain = [get("0")] + [get(str(n), dependsOn=[str(n - 1)]) for n in range(1, 6)]
    sequential = by_id(await batch(client, auth, chain))
    assert {p["status"] for p in sequential.values()} == {200}


async def test_parallel_parts_finding_no_free_slot_are_throttled(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    """With another request of the app in flight to the mailbox, one part of each wave of
    four finds no slot: it is answered 429 with Retry-After, the others run."""
    emu.set_throttling(world.ann)
    emu.throttle.in_flight[(CLIENT_ID, world.ann)] = 1
    parallel = by_id(await batch(client, auth, [get(str(n)) for n in range(8)]))
    statuses = sorted(p["status"] for p in parallel.values())
    assert statuses == [200] * 6 + [429] * 2
    throttled = next(p for p in parallel.values() if p["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "1"
    assert throttled["body"]["error"]["code"] == "ApplicationThrottled"


async def test_writes_without_if_match_are_refused_when_the_emulator_insists(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, world: World
) -> None:
    created = (await client.post("/v1.0/me/events", headers=auth, json=event_body("A"))).json()
    emu.state.require_if_match = True
    url = f"/v1.0/me/events/{created['id']}"
    bare = await client.patch(url, headers=auth, json={"subject": "B"})
    assert bare.status_code == 428
    keyed = {**auth, "If-Match": created["@odata.etag"]}
    assert (await client.patch(url, headers=keyed, json={"subject": "B"})).status_code == 200
    assert (await client.delete(url, headers=auth)).status_code == 428
