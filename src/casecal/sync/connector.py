"""Builds the provider adapter of a stored connection: tokens decrypted from the database,
refreshed at the provider's token endpoint, and rotated refresh tokens stored encrypted again."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.domain.entries import EntryKind
from casecal.domain.invitations import graph_invite_kinds
from casecal.providers.base import Provider
from casecal.providers.budget import Budgets, WindowBudget
from casecal.providers.errors import AuthExpired
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.tokens import RefreshingTokenSource, TokenSet
from casecal.store.tables import Connection, Firm, ProviderName, utcnow


def microsoft_token_url(settings: Settings, tenant_id: str | None) -> str:
    base = settings.microsoft_auth_base_url.rstrip("/")
    return f"{base}/{tenant_id or 'organizations'}/oauth2/v2.0/token"


class ConnectionProviders:
    """A ``ProviderFactory`` for the engine, over one shared HTTP client."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        cipher: TokenCipher | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.client = client
        self.cipher = cipher or TokenCipher.from_settings(settings)
        self.mailboxes = Budgets(
            settings.graph_mailbox_requests, settings.graph_mailbox_window_seconds
        )
        self.firms = (
            Budgets(settings.firm_requests_per_minute, 60.0)
            if settings.firm_requests_per_minute > 0
            else None
        )

    def budgets(self, connection: Connection) -> list[WindowBudget]:
        """What a connection's requests draw on: its firm's budget, and on Graph its mailbox's
        (kept across passes, so a pass starts where the last one left the window)."""
        found = [self.firms.of(str(connection.firm_id))] if self.firms is not None else []
        if connection.provider is ProviderName.MICROSOFT:
            found.append(self.mailboxes.of(connection.account_subject or str(connection.id)))
        return found

    async def __call__(self, connection: Connection) -> Provider:
        if connection.refresh_token_enc is None:
            raise AuthExpired("the connection holds no refresh token; re-authorise it")
        refresh_token = self.cipher.decrypt(connection.refresh_token_enc)
        access_token = (
            self.cipher.decrypt(connection.access_token_enc)
            if connection.access_token_enc
            else None
        )
        expires = connection.access_token_expires_at
        connection_id = connection.id

        async def store(tokens: TokenSet) -> None:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Connection)
                    .where(Connection.id == connection_id)
                    .values(
                        refresh_token_enc=self.cipher.encrypt(tokens.refresh_token),
                        access_token_enc=self.cipher.encrypt(tokens.access_token),
                        access_token_expires_at=datetime.fromtimestamp(tokens.expires_at, UTC),
                        updated_at=utcnow(),
                    )
                )

        google = connection.provider is ProviderName.GOOGLE
        source = RefreshingTokenSource(
            self.client,
            self.settings.google_token_url
            if google
            else microsoft_token_url(self.settings, connection.tenant_id),
            client_id=self.settings.google_client_id
            if google
            else self.settings.microsoft_client_id,
            client_secret=self.settings.google_client_secret
            if google
            else self.settings.microsoft_client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at=expires.timestamp() if expires is not None else time.time() - 1,
            provider=connection.provider.value,
            on_refresh=store,
        )
        if google:
            return GoogleCalendarProvider(
                self.client,
                source,
                api_base_url=self.settings.google_api_base_url,
                budgets=self.budgets(connection),
            )
        return MicrosoftGraphProvider(
            self.client,
            source,
            graph_base_url=self.settings.microsoft_graph_base_url,
            tenant_id=connection.tenant_id,
            budgets=self.budgets(connection),
            invite_kinds=await self.invite_kinds(connection),
        )

    async def invite_kinds(self, connection: Connection) -> frozenset[EntryKind]:
        """The entry kinds whose attendees the connection's firm lets Graph invite."""
        async with self.sessionmaker() as session:
            settings = await session.scalar(
                select(Firm.settings).where(Firm.id == connection.firm_id)
            )
        return graph_invite_kinds(settings)
