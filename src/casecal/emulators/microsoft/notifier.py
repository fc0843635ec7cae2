"""Outgoing webhooks: the subscription validation handshake, change notifications for every
event change a subscription covers, and lifecycle notifications. Sent with httpx."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from casecal.emulators.microsoft.state import MicrosoftState, StoredEvent, Subscription
from casecal.emulators.microsoft.tz import utc_iso

VALIDATION_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 3.0


@dataclass
class Delivery:
    url: str
    payload: dict[str, Any]
    status: int | None = None
    error: str | None = None


class Notifier:
    """Queues notifications and delivers them in the background (or on ``flush``)."""

    def __init__(
        self, state: MicrosoftState, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.state = state
        self.transport = transport
        self.pending: list[Delivery] = []
        self.sent: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        state.listeners.append(self.on_change)

    def _client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=timeout)

    async def validate(self, url: str) -> str | None:
        """Run the handshake; returns None on success or the reason it failed."""
        token = (
            f"Validation: Testing client application reachability for subscription "
            f"Request-Id: {secrets.token_hex(16)}"
        )
        target = f"{url}{'&' if '?' in url else '?'}validationToken={quote(token)}"
        try:
            async with self._client(VALIDATION_TIMEOUT) as client:
                response = await client.post(
                    target, headers={"Content-Type": "text/plain; charset=utf-8"}
                )
        except httpx.HTTPError as exc:
            return f"the request failed ({type(exc).__name__})"
        if response.status_code != 200:
            return f"the endpoint answered {response.status_code}, not 200"
        if not response.headers.get("content-type", "").startswith("text/plain"):
            return "the answer was not text/plain"
        if response.text != token:
            return "the answer was not the URL-decoded validationToken"
        return None

    def enqueue(self, url: str, payload: dict[str, Any]) -> None:
        self.pending.append(Delivery(url, payload))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        while self.pending:
            delivery = self.pending.pop(0)
            try:
                async with self._client(DELIVERY_TIMEOUT) as client:
                    response = await client.post(delivery.url, json=delivery.payload)
                delivery.status = response.status_code
            except httpx.HTTPError as exc:
                delivery.error = type(exc).__name__
            self.sent.append(delivery)

    async def flush(self) -> list[Delivery]:
        """Wait until every queued notification was delivered; returns all deliveries."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
        await self._drain()
        return self.sent

    def on_change(self, change: str, event: StoredEvent, calendar_id: str) -> None:
        now = self.state.clock.now()
        for sub in list(self.state.subscriptions.values()):
            if (
                sub.oid != event.owner_oid
                or sub.expires_at <= now
                or change not in sub.change_types
            ):
                continue
            owner = self.state.users[sub.oid]
            if (sub.calendar_id or owner.default_calendar_id) != calendar_id:
                continue
            event_id = event.immutable_id if sub.immutable_ids else event.rest_id
            resource = f"Users/{sub.oid}/Events/{event_id}"
            self.enqueue(
                sub.notification_url,
                {
                    "value": [
                        {
                            "subscriptionId": sub.id,
                            "subscriptionExpirationDateTime": utc_iso(sub.expires_at),
                            "changeType": change,
                            "resource": resource,
                            "resourceData": {
                                "@odata.type": "#Microsoft.Graph.Event",
                                "@odata.id": resource,
                                "@odata.etag": f'W/"{event.change_key}"',
                                "id": event_id,
                            },
                            "clientState": sub.client_state,
                            "tenantId": sub.tenant_id,
                        }
                    ]
                },
            )

    def lifecycle(self, sub: Subscription, event: str) -> None:
        if sub.lifecycle_url is None:
            raise ValueError(f"subscription {sub.id} has no lifecycleNotificationUrl")
        self.enqueue(
            sub.lifecycle_url,
            {
                "value": [
                    {
                        "subscriptionId": sub.id,
                        "subscriptionExpirationDateTime": utc_iso(sub.expires_at),
                        "tenantId": sub.tenant_id,
                        "clientState": sub.client_state,
                        "lifecycleEvent": event,
                    }
                ]
            },
        )
