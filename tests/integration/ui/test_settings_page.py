"""Your settings: a user picks the zone pages show times in; empty follows the firm's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, post_form, signed_in_page

from casecal.store.tables import Connection, ConnectionStatus, ProviderName, User


async def _zone(sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm) -> str | None:
    async with sessionmaker() as session:
        user = await session.get(User, firm.cm1.id)
        assert user is not None
        return user.time_zone


async def test_a_user_picks_their_zone_and_pages_follow_it(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        session.add(Connection(
            firm_id=ui_firm.id, user_id=ui_firm.cm1.id, provider=ProviderName.GOOGLE,
            status=ConnectionStatus.ACTIVE, refresh_token_enc="x", calendar_name="Work",
            last_sync_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
        ))  # fmt: skip
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar-sync")
    assert '<a href="/settings">Your settings</a>' in page.text
    assert "Mon 02 Mar 2026, 05:30 EST" in page.text  # the firm's zone by default

    settings = await client.get("/settings")
    assert '<option value="" selected>The firm\'s zone (America/New_York)</option>' in settings.text
    done = await post_form(client, settings, "/settings", time_zone="Europe/Berlin")
    assert done.headers["location"] == "/settings?done=settings-saved"
    assert await _zone(sessionmaker, ui_firm) == "Europe/Berlin"
    page = await client.get("/calendar-sync")
    assert "Mon 02 Mar 2026, 11:30 CET" in page.text

    settings = await client.get("/settings")
    assert '<option value="Europe/Berlin" selected>' in settings.text
    await post_form(client, settings, "/settings", time_zone="")
    assert await _zone(sessionmaker, ui_firm) is None


async def test_an_unknown_zone_is_refused(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = await signed_in_page(client, ui_firm.cm1.email, "/settings")
    bad = await post_form(client, settings, "/settings", time_zone="Mars/Olympus_Mons")
    assert bad.status_code == 422
    assert "is not a time zone CaseCal knows" in bad.text
    assert await _zone(sessionmaker, ui_firm) is None
