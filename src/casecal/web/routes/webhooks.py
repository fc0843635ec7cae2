"""Push notification receivers (Google watch channels, Graph subscriptions and their lifecycle
events). Each validates its input against a schema first (body bounded, 413 beyond; 400 for
anything malformed), checks the channel secret in constant time under the one key source
(``secret_material``), records the channel's health (a valid or a refused delivery), drops
unknown, stopped and repeated notifications, and only marks the connection dirty and kicks the
scheduler: never syncs inline."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Protocol

import structlog
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import PlainTextResponse

from casecal.auth.encryption import secret_material
from casecal.services.push_receipts import channels_by_id, google_first_time, stamp
from casecal.store.tables import ProviderName, utcnow
from casecal.sync import triggers
from casecal.sync.channels import ChannelManager, secret_matches
from casecal.web.body_limit import BodyTooLarge, read_bounded
from casecal.web.schemas.webhooks import (
    MAX_BODY_BYTES,
    MAX_VALIDATION_TOKEN,
    parse_google,
    parse_graph,
)

log = structlog.get_logger(__name__)
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
    """The keys channel secrets were made under: the same source as the channel manager's
    (the configured keys, else the key file in the data directory), read once per app."""
    state = request.app.state
    keys: list[str] | None = getattr(state, "webhook_keys", None)
    if keys is None:
        keys = state.webhook_keys = secret_material(state.settings)
    return keys


async def _kick(request: Request, connection_ids: set[uuid.UUID]) -> None:
    scheduler: Kicker | None = getattr(request.app.state, "kicker", None)
    if scheduler is not None:
        for connection_id in connection_ids:
            await scheduler.kick(connection_id, trigger="webhook")


@router.post("/google")
async def google(request: Request) -> Response:
    try:
        await read_bounded(request, MAX_BODY_BYTES)  # Google sends none; refuse a big one
    except BodyTooLarge:
        _count(request, "google", "too_large")
        return Response(status_code=413)
    note = parse_google(request.headers)
    if note is None:
        _count(request, "google", "malformed")
        return Response(status_code=400)
    now = utcnow()
    async with request.app.state.sessionmaker() as session, session.begin():
        rows = await channels_by_id(session, ProviderName.GOOGLE, {note.channel_id})
        row = rows.get(note.channel_id)
        resource = note.resource_id
        if row is None or row.stopped_at is not None or (row.resource_id or resource) != resource:
            _count(request, "google", "unknown" if row is None else "stopped")
            return Response(status_code=200)
        if not secret_matches(_keys(request), note.token, row.secret_digest):
            await stamp(session, {row.id}, last_refused_at=now)
            _count(request, "google", "forged")
            return Response(status_code=401)
        if not await google_first_time(session, row, note.message_number, now):
            _count(request, "google", "duplicate")
            return Response(status_code=200)
        if note.resource_state == "sync":  # the handshake right after the watch: no change
            _count(request, "google", "sync")
            return Response(status_code=200)
        await triggers.mark_dirty(session, row.connection_id, now)
        connection_id = row.connection_id
    _count(request, "google", "accepted")
    await _kick(request, {connection_id})
    return Response(status_code=200)


async def _graph(request: Request, background: BackgroundTasks) -> Response:
    token = request.query_params.get("validationToken")
    if token is not None:
        if len(token) > MAX_VALIDATION_TOKEN:
            return Response(status_code=400)
        return PlainTextResponse(token)
    try:
        body = await read_bounded(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        _count(request, "microsoft", "too_large")
        return Response(status_code=413)
    batch = parse_graph(body)
    if batch is None:
        _count(request, "microsoft", "malformed")
        return Response(status_code=400)
    now, seen, keys = utcnow(), _seen(request), _keys(request)
    valid, refused, dirty = set[uuid.UUID](), set[uuid.UUID](), set[uuid.UUID]()
    async with request.app.state.sessionmaker() as session, session.begin():
        ids = {item.subscription_id for item in batch.value}
        rows = await channels_by_id(session, ProviderName.MICROSOFT, ids)
        for item in batch.value:
            row = rows.get(item.subscription_id)
            if row is None or row.stopped_at is not None:
                _count(request, "microsoft", "unknown" if row is None else "stopped")
                continue
            if not secret_matches(keys, item.client_state, row.secret_digest):
                _count(request, "microsoft", "forged")
                refused.add(row.id)
                continue
            event = item.lifecycle_event
            if event in LIFECYCLE:
                _count(request, "microsoft", str(event))
                valid.add(row.id)
                background.add_task(_lifecycle, request, row.id, row.connection_id, str(event))
                continue
            if not seen.first_time(item.key()):
                _count(request, "microsoft", "duplicate")
                continue
            _count(request, "microsoft", "accepted")
            valid.add(row.id)
            dirty.add(row.connection_id)
        await stamp(session, valid, last_valid_at=now)
        await stamp(session, refused - valid, last_refused_at=now)
        for connection_id in dirty:
            await triggers.mark_dirty(session, connection_id, now)
    await _kick(request, dirty)
    return Response(status_code=403 if refused else 202)


async def _dirty(request: Request, connection_ids: set[uuid.UUID]) -> None:
    async with request.app.state.sessionmaker() as session, session.begin():
        for connection_id in connection_ids:
            await triggers.mark_dirty(session, connection_id, utcnow())
    await _kick(request, connection_ids)


async def _lifecycle(
    request: Request, row_id: uuid.UUID, connection_id: uuid.UUID, event: str
) -> None:
    """Runs after the answer went out: these need provider calls. A failing one (the account
    needs re-authorising, the provider is down) leaves a resync and the renewal sweep."""
    manager: ChannelManager | None = getattr(request.app.state, "channels", None)
    try:
        if manager is not None and event == "reauthorizationRequired":
            await manager.reauthorize(row_id)
            return
        if manager is not None and event == "subscriptionRemoved":
            await manager.recreate(row_id)
    except Exception as exc:  # after the answer: nobody to tell but the log and the sweep
        log.warning("lifecycle handling failed", lifecycle_event=event, error=repr(exc))
    await _dirty(request, {connection_id})  # removed or missed: changes may be lost, resync


@router.post("/microsoft")
async def microsoft(request: Request, background: BackgroundTasks) -> Response:
    return await _graph(request, background)


@router.post("/microsoft/lifecycle")
async def microsoft_lifecycle(request: Request, background: BackgroundTasks) -> Response:
    return await _graph(request, background)
