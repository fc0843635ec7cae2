"""Change notifications: the validation handshake, Outlook's limits on subscriptions, delivery
of created/updated/deleted notifications with clientState, renewal, deletion, expiry and
lifecycle notifications, all to an in-process receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ms_support import CLIENT_ID, SCOPES, Receiver, World, event_body

from casecal.emulators.microsoft import MicrosoftEmulator

HOOK = "https://hooks.casecal.test/graph/notify"
LIFECYCLE = "https://hooks.casecal.test/graph/lifecycle"


def expiry(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def subscription(**overrides: Any) -> dict[str, Any]:
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": HOOK,
        "lifecycleNotificationUrl": LIFECYCLE,
        "resource": "me/events",
        "expirationDateTime": expiry(3 * 24 * 60),
        "clientState": "secret-client-state",
        **overrides,
    }


async def subscribe(
    client: httpx.AsyncClient, auth: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1.0/subscriptions", headers=auth, json=subscription(**overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_handshake_then_change_notifications(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    emu: MicrosoftEmulator,
    receiver: Receiver,
    world: World,
) -> None:
    sub = await subscribe(client, auth)
    assert receiver.validations == ["/graph/notify", "/graph/lifecycle"]
    assert sub["clientState"] == "secret-client-state"
    assert sub["changeType"] == "created,updated,deleted"

    event = (await client.post("/v1.0/me/events", headers=auth, json=event_body())).json()
    await client.patch(f"/v1.0/me/events/{event['id']}", headers=auth, json={"subject": "New"})
    await client.delete(f"/v1.0/me/events/{event['id']}", headers=auth)
    deliveries = await emu.flush_notifications()
    assert [d.status for d in deliveries] == [202, 202, 202]
    notes = [n["value"][0] for n in receiver.notifications]
    assert [n["changeType"] for n in notes] == ["created", "updated", "deleted"]
    first = notes[0]
    assert first["subscriptionId"] == sub["id"]
    assert first["clientState"] == "secret-client-state"
    assert first["tenantId"] == world.user_tenant
    assert first["resource"] == f"Users/{world.ann}/Events/{event['id']}"
    assert first["resourceData"]["id"] == event["id"]
    assert first["resourceData"]["@odata.etag"] == event["@odata.etag"]


async def test_only_subscribed_change_types_and_calendars_are_notified(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    emu: MicrosoftEmulator,
    receiver: Receiver,
    world: World,
) -> None:
    cases = emu.add_calendar(world.ann, "Cases")
    await subscribe(client, auth, changeType="deleted", lifecycleNotificationUrl=None)
    await subscribe(
        client, auth, resource=f"me/calendars/{cases}/events", notificationUrl=HOOK + "/cases"
    )
    emu.create_event_as_other(world.ann, event_body("Default"))
    emu.create_event_as_other(world.ann, event_body("In cases"), cases)
    await emu.flush_notifications()
    assert [(n["path"], n["value"][0]["changeType"]) for n in receiver.notifications] == [
        ("/graph/notify/cases", "created")
    ]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("wrong", "not the URL-decoded"), ("status500", "500"), ("json", "text/plain")],
)
async def test_failed_handshake_refuses_the_subscription(
    client: httpx.AsyncClient, auth: dict[str, str], receiver: Receiver, mode: str, reason: str
) -> None:
    receiver.mode = mode
    response = await client.post("/v1.0/subscriptions", headers=auth, json=subscription())
    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]
    assert (await client.get("/v1.0/subscriptions", headers=auth)).json()["value"] == []


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        # Minutes from now, turned into a time when the test runs (not when it is collected).
        ({"expirationDateTime": 10081}, "ExtensionError"),
        ({"expirationDateTime": -5}, "ExtensionError"),
        ({"clientState": "x" * 129}, "InvalidRequest"),
        ({"notificationUrl": "http://hooks.casecal.test/graph"}, "InvalidRequest"),
        ({"resource": "me/messages"}, "InvalidRequest"),
        ({"changeType": "created,moved"}, "InvalidRequest"),
        ({"includeResourceData": True}, "InvalidRequest"),
        ({"colour": "red"}, "InvalidRequest"),
    ],
)
async def test_invalid_subscriptions_are_refused(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    receiver: Receiver,
    overrides: dict[str, Any],
    code: str,
) -> None:
    if isinstance(overrides.get("expirationDateTime"), int):
        overrides = {"expirationDateTime": expiry(overrides["expirationDateTime"])}
    response = await client.post(
        "/v1.0/subscriptions", headers=auth, json=subscription(**overrides)
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert receiver.validations == []


async def test_another_mailbox_is_forbidden(
    client: httpx.AsyncClient, auth: dict[str, str], world: World
) -> None:
    response = await client.post(
        "/v1.0/subscriptions", headers=auth, json=subscription(resource=f"users/{world.bob}/events")
    )
    assert response.status_code == 403


async def test_http_urls_only_when_allowed(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator
) -> None:
    emu.allow_http_notification_urls = True
    await subscribe(
        client,
        auth,
        notificationUrl="http://hooks.casecal.test/graph",
        lifecycleNotificationUrl=None,
    )


async def test_short_expirations_are_raised_to_45_minutes(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    sub = await subscribe(client, auth, expirationDateTime=expiry(10))
    expires = datetime.fromisoformat(sub["expirationDateTime"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) > timedelta(minutes=44)


async def test_renew_delete_and_expiry(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    emu: MicrosoftEmulator,
    receiver: Receiver,
    world: World,
) -> None:
    sub = await subscribe(client, auth, expirationDateTime=expiry(60))
    url = f"/v1.0/subscriptions/{sub['id']}"
    renewed = await client.patch(url, headers=auth, json={"expirationDateTime": expiry(6000)})
    assert renewed.status_code == 200
    assert renewed.json()["expirationDateTime"] > sub["expirationDateTime"]
    too_far = await client.patch(url, headers=auth, json={"expirationDateTime": expiry(20000)})
    assert too_far.status_code == 400
    lifecycle = await client.patch(
        url, headers=auth, json={"lifecycleNotificationUrl": LIFECYCLE + "2"}
    )
    assert lifecycle.status_code == 400

    emu.state.clock.advance(6001 * 60)
    fresh = emu.issue_tokens("ann@contoso.com", CLIENT_ID, SCOPES)["access_token"]
    assert (await client.get(url, headers={"Authorization": f"Bearer {fresh}"})).status_code == 404
    emu.create_event_as_other(world.ann, event_body())
    assert await emu.flush_notifications() == []

    emu.state.clock.offset = timedelta()
    second = await subscribe(client, auth)
    second_url = f"/v1.0/subscriptions/{second['id']}"
    assert (await client.delete(second_url, headers=auth)).status_code == 204
    missing = await client.get(second_url, headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceNotFound"


async def test_lifecycle_notifications(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator, receiver: Receiver
) -> None:
    sub = await subscribe(client, auth)
    emu.send_lifecycle(sub["id"], "reauthorizationRequired")
    response = await client.post(
        f"/_emulator/subscriptions/{sub['id']}/lifecycle", json={"event": "missed"}
    )
    assert response.status_code == 204
    await emu.flush_notifications()
    events = [(n["path"], n["value"][0]["lifecycleEvent"]) for n in receiver.notifications]
    assert events == [
        ("/graph/lifecycle", "reauthorizationRequired"),
        ("/graph/lifecycle", "missed"),
    ]
    assert receiver.notifications[0]["value"][0]["clientState"] == "secret-client-state"
    assert emu.state.subscriptions[sub["id"]].needs_reauthorization
    reauthorized = await client.post(f"/v1.0/subscriptions/{sub['id']}/reauthorize", headers=auth)
    assert reauthorized.status_code == 204
    assert not emu.state.subscriptions[sub["id"]].needs_reauthorization

    emu.send_lifecycle(sub["id"], "subscriptionRemoved")
    await emu.flush_notifications()
    assert receiver.notifications[-1]["value"][0]["lifecycleEvent"] == "subscriptionRemoved"
    assert (await client.get(f"/v1.0/subscriptions/{sub['id']}", headers=auth)).status_code == 404


async def test_lifecycle_needs_a_lifecycle_url(
    client: httpx.AsyncClient, auth: dict[str, str], emu: MicrosoftEmulator
) -> None:
    sub = await subscribe(client, auth, lifecycleNotificationUrl=None)
    with pytest.raises(ValueError, match="lifecycleNotificationUrl"):
        emu.send_lifecycle(sub["id"], "missed")
