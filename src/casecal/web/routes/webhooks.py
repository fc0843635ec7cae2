"""Push notification receivers (Google watch channels, Graph subscriptions and their lifecycle
events). They check the channel secret in constant time, drop unknown, stopped and repeated
notifications, and only mark the connection dirty and kick the scheduler: never sync inline."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any, Protocol

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.store.tables import ProviderName, PushChannelRow, utcnow
from casecal.sync import triggers
from casecal.sync.channels import ChannelManager, secret_matches

router = APIRouter(prefix="/webhooks", include_in_schema=False)

SEEN_LIMIT = 50_000
LIFECYCLE = ("reauthorizationRequired", "subscriptionRemoved", "missed")


class Kicker(Protocol):
    async def kick(self, connection_id: uuid.UUID, *, trigger: str = "kick") -> None: ...


class SeenNotifications:
    """Recently seen Graph notification keys (bounded, oldest forgotten first). A repeat that
    slips past it costs at most one coalesced pass hint."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self.limit = limit
        self._keys: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def first_time(self, key: tuple[str, ...]) -> bool:
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        return True


def _seen(request: Request) -> SeenNotifications:
    state = request.app.state
    if getattr(state, "webhook_seen", None) is None:
        state.webhook_seen = SeenNotifications()
    seen: SeenNotifications = state.webhook_seen
    return seen


def _count(request: Request, provider: str, outcome: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.notification(provider, outcome)


def _keys(request: Request) -> list[str]:
    keys: list[str] = request.app.state.settings.secret_keys
    return keys


async def _dirty(request: Request, connection_ids: set[uuid.UUID]) -> None:
    if not connection_ids:
        return
    now = utcnow()
    async with request.app.state.sessionmaker() as session, session.begin():
        for connection_id in connection_ids:
            await triggers.mark_dirty(session, connection_id, now)
    await _kick(request, connection_ids)


async def _kick(request: Request, connection_ids: set[uuid.UUID]) -> None:
    scheduler: Kicker | None = getattr(request.app.state, "kicker", None)
    if scheduler is not None:
        for connection_id in connection_ids:
            await scheduler.kick(connection_id, trigger="webhook")


async def _channels(
    session: AsyncSession, provider: ProviderName, ids: set[str]
) -> dict[str, PushChannelRow]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(PushChannelRow).where(
            PushChannelRow.provider == provider, PushChannelRow.channel_id.in_(ids)
        )
    )
    return {row.channel_id: row for row in rows}


@router.post("/google")
async def google(request: Request) -> Response:
    headers = request.headers
    channel_id = headers.get("X-Goog-Channel-ID", "")
    state = headers.get("X-Goog-Resource-State", "")
    try:
        number = int(headers.get("X-Goog-Message-Number", ""))
    except ValueError:
        number = None
    async with request.app.state.sessionmaker() as session, session.begin():
        row = (await _channels(session, ProviderName.GOOGLE, {channel_id})).get(channel_id)
        resource = headers.get("X-Goog-Resource-ID")
        if row is None or row.stopped_at is not None or (row.resource_id or resource) != resource:
            _count(request, "google", "unknown" if row is None else "stopped")
            return Response(status_code=200)
        if not secret_matches(
            _keys(request), headers.get("X-Goog-Channel-Token"), row.secret_digest
        ):
            _count(request, "google", "forged")
            return Response(status_code=401)
        if number is not None:
            advanced = await session.execute(
                update(PushChannelRow)
                .where(PushChannelRow.id == row.id, PushChannelRow.last_message_number < number)
                .values(last_message_number=number)
            )
            if not getattr(advanced, "rowcount", 0):  # repeated, or older than one seen
                _count(request, "google", "duplicate")
                return Response(status_code=200)
        if state == "sync":  # the handshake message right after the watch: no change
            _count(request, "google", "sync")
            return Response(status_code=200)
        await triggers.mark_dirty(session, row.connection_id, utcnow())
        connection_id = row.connection_id
    _count(request, "google", "accepted")
    await _kick(request, {connection_id})
    return Response(status_code=200)


async def _graph(request: Request, background: BackgroundTasks) -> Response:
    token = request.query_params.get("validationToken")
    if token is not None:
        return PlainTextResponse(token)
    try:
        body = await request.json()
    except ValueError:
        return Response(status_code=400)
    items = (
        [i for i in body.get("value", []) if isinstance(i, dict)] if isinstance(body, dict) else []
    )
    async with request.app.state.sessionmaker() as session:
        rows = await _channels(
            session, ProviderName.MICROSOFT, {str(i.get("subscriptionId", "")) for i in items}
        )
    forged, dirty = False, set[uuid.UUID]()
    seen = _seen(request)
    for item in items:
        row = rows.get(str(item.get("subscriptionId", "")))
        if row is None or row.stopped_at is not None:
            _count(request, "microsoft", "unknown" if row is None else "stopped")
            continue
        if not secret_matches(_keys(request), item.get("clientState"), row.secret_digest):
            _count(request, "microsoft", "forged")
            forged = True
            continue
        event = item.get("lifecycleEvent")
        if event in LIFECYCLE:
            _count(request, "microsoft", str(event))
            background.add_task(_lifecycle, request, row.id, row.connection_id, str(event))
            continue
        if not seen.first_time(_graph_key(item)):
            _count(request, "microsoft", "duplicate")
            continue
        _count(request, "microsoft", "accepted")
        dirty.add(row.connection_id)
    await _dirty(request, dirty)
    return Response(status_code=403 if forged else 202)


def _graph_key(item: dict[str, Any]) -> tuple[str, ...]:
    data = item.get("resourceData") if isinstance(item.get("resourceData"), dict) else {}
    assert isinstance(data, dict)
    return (
        str(item.get("subscriptionId", "")),
        str(data.get("id", item.get("resource", ""))),
        str(item.get("changeType", "")),
        str(data.get("@odata.etag", "")),
    )


async def _lifecycle(
    request: Request, row_id: uuid.UUID, connection_id: uuid.UUID, event: str
) -> None:
    """Runs after the answer went out: these need provider calls."""
    manager: ChannelManager | None = getattr(request.app.state, "channels", None)
    if manager is not None and event == "reauthorizationRequired":
        await manager.reauthorize(row_id)
        return
    if manager is not None and event == "subscriptionRemoved":
        await manager.recreate(row_id)
    await _dirty(request, {connection_id})  # removed or missed: changes may be lost, resync


@router.post("/microsoft")
async def microsoft(request: Request, background: BackgroundTasks) -> Response:
    return await _graph(request, background)


@router.post("/microsoft/lifecycle")
async def microsoft_lifecycle(request: Request, background: BackgroundTasks) -> Response:
    return await _graph(request, background)
