"""events.watch channels and their notifications: a bodiless POST per change with the
X-Goog-* headers ("sync" first, then "exists"), delivered in order through httpx."""

from __future__ import annotations

import asyncio
import re
import secrets
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .clock import Clock, http_date
from .errors import ApiError, invalid

MAX_CHANNEL_SECONDS = 7 * 86400
CHANNEL_ID_RE = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
WATCH_FIELDS = {"id", "type", "address", "token", "expiration", "params", "kind", "payload"}


@dataclass
class Channel:
    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    account: str
    messages: int = 0
    stopped: bool = False


@dataclass(frozen=True)
class Delivery:
    channel_id: str
    state: str
    message_number: int
    status: int | None
    error: str | None = None


class Notifier:
    """Channel registry and the in-order delivery queue."""

    def __init__(self, clock: Clock, transport: httpx.AsyncBaseTransport | None) -> None:
        self.clock = clock
        self.transport = transport
        self.channels: dict[str, Channel] = {}
        self.pending: list[tuple[Channel, str, int]] = []
        self.deliveries: list[Delivery] = []
        self.allow_http = False
        """Google requires HTTPS callbacks; the local demo may switch this on."""
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def watch(
        self, body: Any, calendar_id: str, resource_id: str, uri: str, account: str
    ) -> Channel:
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received.", reason="parseError")
        unknown = set(body) - WATCH_FIELDS
        if unknown:
            raise invalid(f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}.")
        channel_id = body.get("id")
        if not isinstance(channel_id, str) or not CHANNEL_ID_RE.match(channel_id):
            raise ApiError(400, "required" if not channel_id else "invalid", "Invalid channel id.")
        if channel_id in self.channels:
            raise invalid(f"Channel id {channel_id} not unique", reason="channelIdNotUnique")
        if body.get("type") not in ("web_hook", "webhook"):
            raise invalid("Invalid channel type.", reason="pushChannelTypeInvalid")
        address = body.get("address")
        address = address if isinstance(address, str) else ""
        scheme = urlsplit(address).scheme
        if scheme != "https" and not (self.allow_http and scheme == "http"):
            raise invalid(
                f"WebHook callback must be HTTPS: {address}", reason="push.webhookUrlNotHttps"
            )
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            raise invalid("Channel token is limited to 256 characters.")
        now_ms = int(self.clock.now() * 1000)
        cap = now_ms + MAX_CHANNEL_SECONDS * 1000
        expiration = cap
        if body.get("expiration") is not None:
            try:
                expiration = int(body["expiration"])
            except (TypeError, ValueError):
                raise invalid("Invalid expiration.") from None
            if expiration <= now_ms:
                raise invalid("Channel expiration must be in the future.")
            expiration = min(expiration, cap)
        channel = Channel(
            channel_id, resource_id, uri, calendar_id, address, token, expiration, account
        )
        self.channels[channel_id] = channel
        self._enqueue(channel, "sync")
        return channel

    def stop(self, body: Any, account: str) -> None:
        if not isinstance(body, dict) or not body.get("id") or not body.get("resourceId"):
            raise ApiError(400, "required", "Required parameter: id and resourceId")
        channel = self.channels.get(str(body["id"]))
        if (
            channel is None
            or channel.stopped
            or channel.resource_id != body["resourceId"]
            or channel.account != account
        ):
            raise ApiError(404, "notFound", f"Channel '{body['id']}' not found for project")
        channel.stopped = True

    def changed(self, calendar_id: str) -> None:
        now_ms = self.clock.now() * 1000
        for channel in self.channels.values():
            if channel.calendar_id == calendar_id and not channel.stopped:
                if now_ms >= channel.expiration_ms:
                    channel.stopped = True
                else:
                    self._enqueue(channel, "exists")

    def _enqueue(self, channel: Channel, state: str) -> None:
        channel.messages += 1
        self.pending.append((channel, state, channel.messages))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Deliver everything queued, in order (each request handler awaits this too)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            if not self.pending:
                return
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as client:
                while self.pending:
                    channel, state, number = self.pending.pop(0)
                    self.deliveries.append(await self._post(client, channel, state, number))

    async def _post(
        self, client: httpx.AsyncClient, channel: Channel, state: str, number: int
    ) -> Delivery:
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": http_date(channel.expiration_ms / 1000),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        try:
            response = await client.post(channel.address, headers=headers, content=b"")
        except httpx.HTTPError as exc:
            return Delivery(channel.id, state, number, None, repr(exc))
        return Delivery(channel.id, state, number, response.status_code)

    def describe(self, channel: Channel) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if channel.token is not None:
            out["token"] = channel.token
        return out


def new_resource_id() -> str:
    return secrets.token_urlsafe(20)
