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


def _setting(html: str, key: str) -> str:
    start = html.index(f'id="setting-{key.replace(".", "-")}"')
    end = html.find('<li class="consent setting"', start)
    return html[start : end if end != -1 else len(html)]


async def test_a_user_sets_their_own_sync_preference_and_goes_back_to_the_firms(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    page = await signed_in_page(client, ui_firm.cm1.email, "/settings")
    shown = _setting(page.text, "show_as.court_date")
    assert '<dd class="setting-value">busy</dd>' in shown
    assert 'name="locked"' not in shown  # nothing below a user to lock
    assert 'id="setting-guard-percent"' not in page.text  # firm rules are not preferences here
    done = await post_form(client, page, "/settings/values/show_as.court_date", value="free",
                           op="save")  # fmt: skip
    assert done.headers["location"] == "/settings?done=settings-saved#setting-show_as-court_date"
    page = await client.get("/settings")
    shown = _setting(page.text, "show_as.court_date")
    assert '<dd class="setting-value">free</dd>' in shown
    assert "Set by you" in shown
    await post_form(client, page, "/settings/values/show_as.court_date", op="clear")
    page = await client.get("/settings")
    shown = _setting(page.text, "show_as.court_date")
    assert '<dd class="setting-value">busy</dd>' in shown
    assert "default" in shown


async def test_a_preference_that_does_not_fit_is_refused(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    page = await signed_in_page(client, ui_firm.cm1.email, "/settings")
    bad = await post_form(client, page, "/settings/values/reminders.interview", value="soon",
                          op="save")  # fmt: skip
    assert bad.status_code == 422
    assert "whole numbers only" in bad.text
    no_token = await client.post("/settings/values/reminders.interview", data={"value": "5"})
    assert no_token.status_code == 403
