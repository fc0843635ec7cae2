"""Push channel lifecycle: open a Google watch channel or Graph subscription when a connection
becomes active, renew it well before it expires, recreate or re-authorise it on lifecycle
notifications, stop it on disconnect. Secrets are random and stored only as HMAC digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.providers.base import Provider, PushChannel
from casecal.providers.errors import NotFound
from casecal.store.tables import Connection, ConnectionStatus, ProviderName, PushChannelRow, utcnow
from casecal.sync import triggers

log = structlog.get_logger(__name__)

LIFETIME = {
    ProviderName.GOOGLE: timedelta(days=7),  # observed maximum; the provider may shorten it
    ProviderName.MICROSOFT: timedelta(minutes=4230),  # under 3 days: valid for every doc version
}
RENEW_WHEN_LEFT = 0.5
"""Renew once less than this share of the channel's lifetime remains (half-life)."""

ProviderFactory = Callable[[Connection], Awaitable[Provider]]
Kick = Callable[[uuid.UUID], Awaitable[None]]


def secret_digest(key: str, secret: str) -> str:
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(keys: Sequence[str], secret: str | None, digest: str) -> bool:
    """Constant-time check of a presented channel secret against the stored digest, under
    every configured key (rotation keeps older digests valid)."""
    if not secret:
        return False
    found = False
    for key in keys:
        found |= hmac.compare_digest(secret_digest(key, secret), digest)
    return found


def webhook_url(base_url: str, provider: ProviderName) -> str:
    return f"{base_url.rstrip('/')}/webhooks/{provider.value}"


class ChannelManager:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider_for: ProviderFactory,
        *,
        webhook_base_url: str,
        secret_keys: Sequence[str],
        clock: Callable[[], datetime] = utcnow,
        kick: Kick | None = None,
    ) -> None:
        if not secret_keys:
            raise ValueError("push channels need at least one secret key")
        self.sessionmaker = sessionmaker
        self.provider_for = provider_for
        self.webhook_base_url = webhook_base_url
        self.secret_keys = list(secret_keys)
        self.clock = clock
        self.kick = kick

    async def open(self, connection_id: uuid.UUID) -> PushChannelRow | None:
        """Open a channel for an active connection (on activation, or to replace one)."""
        connection = await self._connection(connection_id)
        if connection is None or connection.status is not ConnectionStatus.ACTIVE:
            return None
        provider = await self.provider_for(connection)
        if not provider.capabilities.supports_push or connection.calendar_id is None:
            return None
        secret = secrets.token_urlsafe(48)
        channel = await provider.start_push(
            connection.calendar_id,
            webhook_url(self.webhook_base_url, connection.provider),
            secret,
            self.clock() + LIFETIME[connection.provider],
        )
        return await self._save(connection, channel, secret)

    async def renew_due(self) -> int:
        """Renew every live channel past its half-life; returns how many were renewed."""
        now = self.clock()
        async with self.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(PushChannelRow).where(PushChannelRow.stopped_at.is_(None))
                )
            ).all()
        renewed = 0
        for row in rows:
            left = row.expires_at - now
            if left < LIFETIME[row.provider] * RENEW_WHEN_LEFT:
                try:
                    await self.renew(row.id)
                    renewed += 1
                except Exception as exc:  # one failing account must not stop the others
                    log.warning("channel renewal failed", channel=row.channel_id, error=repr(exc))
        return renewed

    async def renew(self, row_id: uuid.UUID) -> PushChannelRow | None:
        """Graph: extend the subscription (with a fresh token, which also re-authorises it).
        Google: open a new channel, then stop the old one (both may fire for a moment)."""
        row, connection = await self._row(row_id)
        if row is None or connection is None:
            return None
        if connection.status is not ConnectionStatus.ACTIVE:
            await self._stop_rows([row], connection)
            return None
        if row.provider is ProviderName.GOOGLE:
            fresh = await self.open(connection.id)
            await self._stop_rows([row], connection)
            return fresh
        provider = await self.provider_for(connection)
        expires = self.clock() + LIFETIME[row.provider]
        try:
            channel = await provider.renew_push(self._channel(row, connection), expires)
        except NotFound:  # expired or removed at the provider: start over, and resync
            return await self.recreate(row.id)
        async with self.sessionmaker() as session, session.begin():
            stored = await session.get(PushChannelRow, row.id)
            if stored is not None:
                stored.expires_at = channel.expires_at
            return stored

    async def reauthorize(self, row_id: uuid.UUID) -> PushChannelRow | None:
        """``reauthorizationRequired``: a PATCH with a fresh token re-authorises and renews."""
        return await self.renew(row_id)

    async def recreate(self, row_id: uuid.UUID) -> PushChannelRow | None:
        """``subscriptionRemoved``: the old one is gone; open a new one and resync, since
        changes may have been missed in between."""
        row, connection = await self._row(row_id)
        if row is None or connection is None:
            return None
        await self._mark_stopped(row.id)
        fresh = await self.open(connection.id)
        await self.resync(connection.id)
        return fresh

    async def resync(self, connection_id: uuid.UUID) -> None:
        """``missed``: run a pass (the delta link catches everything that changed)."""
        async with self.sessionmaker() as session, session.begin():
            await triggers.mark_dirty(session, connection_id, self.clock())
        if self.kick is not None:
            await self.kick(connection_id)

    async def close(self, connection_id: uuid.UUID) -> int:
        """Stop every live channel of a connection (on disconnect); returns how many."""
        connection = await self._connection(connection_id)
        if connection is None:
            return 0
        async with self.sessionmaker() as session:
            rows = list(
                (
                    await session.scalars(
                        select(PushChannelRow).where(
                            PushChannelRow.connection_id == connection_id,
                            PushChannelRow.stopped_at.is_(None),
                        )
                    )
                ).all()
            )
        await self._stop_rows(rows, connection)
        return len(rows)

    # -- helpers ---------------------------------------------------------------------------
    async def _stop_rows(self, rows: Sequence[PushChannelRow], connection: Connection) -> None:
        provider: Provider | None = None
        for row in rows:
            try:
                provider = provider or await self.provider_for(connection)
                await provider.stop_push(self._channel(row, connection))
            except Exception as exc:  # the provider may have dropped it already: still stop it
                log.info("channel stop failed", channel=row.channel_id, error=repr(exc))
            await self._mark_stopped(row.id)

    async def _mark_stopped(self, row_id: uuid.UUID) -> None:
        async with self.sessionmaker() as session, session.begin():
            row = await session.get(PushChannelRow, row_id)
            if row is not None and row.stopped_at is None:
                row.stopped_at = utcnow()

    async def _save(
        self, connection: Connection, channel: PushChannel, secret: str
    ) -> PushChannelRow:
        row = PushChannelRow(
            firm_id=connection.firm_id,
            connection_id=connection.id,
            provider=connection.provider,
            channel_id=channel.id,
            resource_id=channel.resource_id,
            secret_digest=secret_digest(self.secret_keys[0], secret),
            expires_at=channel.expires_at,
        )
        async with self.sessionmaker() as session, session.begin():
            session.add(row)
        return row

    def _channel(self, row: PushChannelRow, connection: Connection) -> PushChannel:
        return PushChannel(
            id=row.channel_id,
            calendar_id=connection.calendar_id or "",
            address=webhook_url(self.webhook_base_url, row.provider),
            expires_at=row.expires_at,
            secret="",
            resource_id=row.resource_id,
        )

    async def _connection(self, connection_id: uuid.UUID) -> Connection | None:
        async with self.sessionmaker() as session:
            return await session.get(Connection, connection_id)

    async def _row(self, row_id: uuid.UUID) -> tuple[PushChannelRow | None, Connection | None]:
        async with self.sessionmaker() as session:
            row = await session.get(PushChannelRow, row_id)
            connection = await session.get(Connection, row.connection_id) if row else None
            return row, connection
