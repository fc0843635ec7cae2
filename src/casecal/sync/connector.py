"""The one way to build the provider adapter of a stored connection, for the engine and the
connect flow alike: tokens decrypted from the database and refreshed at the token endpoint the
provider's discovery document names, the firm's and (on Graph) the mailbox's request budgets,
the API base URLs, and the invitation choice in force for the connection's user."""

from __future__ import annotations

import time
import weakref
from collections.abc import Container
from datetime import UTC, datetime

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth import oauth
from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.domain.effective_settings import EffectiveSettings
from casecal.domain.entries import EntryKind
from casecal.providers.base import Provider
from casecal.providers.budget import Budgets, WindowBudget
from casecal.providers.errors import AuthExpired
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.tokens import OnRefresh, RefreshingTokenSource, TokenSet
from casecal.store.tables import Connection, ProviderName, utcnow
from casecal.sync.caldav_adapter import caldav_adapter
from casecal.sync.settings_query import effective_for

_by_client: weakref.WeakKeyDictionary[httpx.AsyncClient, ConnectionProviders]
_by_client = weakref.WeakKeyDictionary()


class ConnectionProviders:
    """A ``ProviderFactory`` for the engine, over one shared HTTP client. The first factory
    made for a client is that client's (``of``): the connect flow, which only has the client,
    finds it there and so draws on the same budgets as the engine."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession] | None,
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
        _by_client.setdefault(client, self)

    @staticmethod
    def of(settings: Settings, client: httpx.AsyncClient) -> ConnectionProviders:
        """The factory of ``client`` (a new one, without a database, if it has none)."""
        found = _by_client.get(client)
        return found if found is not None else ConnectionProviders(settings, None, client)

    def budgets(self, connection: Connection) -> list[WindowBudget]:
        """What a connection's requests draw on: its firm's budget, and on Graph its mailbox's
        (kept across passes, so a pass starts where the last one left the window)."""
        found = [self.firms.of(str(connection.firm_id))] if self.firms is not None else []
        if connection.provider is ProviderName.MICROSOFT:
            found.append(self.mailboxes.of(connection.account_subject or str(connection.id)))
        return found

    async def __call__(self, connection: Connection) -> Provider:
        return await self.adapter(connection)

    async def adapter(
        self,
        connection: Connection,
        *,
        on_refresh: OnRefresh | None = None,
        invite_kinds: Container[EntryKind] | None = None,
    ) -> Provider:
        """The adapter of ``connection``. Refreshed tokens go to ``on_refresh`` (the connect
        flow keeps them on the row it holds), else into the row in a session of their own.
        ``invite_kinds`` None: the firm's choice, read from the database."""
        if connection.refresh_token_enc is None:
            raise AuthExpired("the connection holds no refresh token; re-authorise it")
        if connection.provider is ProviderName.CALDAV:
            return caldav_adapter(
                self.client, self.cipher, connection.refresh_token_enc, self.budgets(connection)
            )
        expires = connection.access_token_expires_at
        provider, tenant = connection.provider, connection.tenant_id
        client_id, client_secret = oauth.client_credentials(self.settings, provider)

        async def token_url() -> str:
            return (await oauth.endpoints(self.client, self.settings, provider, tenant)).token

        source = RefreshingTokenSource(
            self.client,
            token_url,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=self.cipher.decrypt(connection.refresh_token_enc),
            access_token=self.cipher.decrypt(connection.access_token_enc)
            if connection.access_token_enc
            else None,
            expires_at=expires.timestamp() if expires is not None else time.time() - 1,
            provider=provider.value,
            on_refresh=on_refresh or self._store(connection),
        )
        if provider is ProviderName.GOOGLE:
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
            tenant_id=tenant,
            budgets=self.budgets(connection),
            invite_kinds=await self.invite_kinds(connection)
            if invite_kinds is None
            else invite_kinds,
        )

    def _store(self, connection: Connection) -> OnRefresh:
        """Rotated tokens, stored encrypted on the connection's row."""
        connection_id = connection.id

        async def store(tokens: TokenSet) -> None:
            if self.sessionmaker is None:
                return
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

        return store

    async def for_pass(self, connection: Connection, settings: EffectiveSettings) -> Provider:
        """The adapter of ``connection`` for a sync pass, which has read the settings in force
        for its user already (``settings``): no read of its own."""
        return await self.adapter(connection, invite_kinds=settings.invite_kinds())

    async def invite_kinds(self, connection: Connection) -> frozenset[EntryKind]:
        """The entry kinds whose attendees Graph may invite for the connection's user
        (``invitations.graph_attendees`` in force: the firm's, the team's or the user's)."""
        if self.sessionmaker is None:
            return frozenset()
        async with self.sessionmaker() as session:
            settings = await effective_for(session, connection.firm_id, connection.user_id)
        return settings.invite_kinds()
