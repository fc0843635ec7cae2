"""Setup > Firm settings: a firm admin sets and locks values for the firm or a team; each
setting shows its value, where it comes from and who locked it; forms carry the CSRF token."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, csrf_of, post_form, sign_in, signed_in_page

from casecal.services.teams import create_team
from casecal.store.tables import AuditEvent, Role

PAGE = "/firm-settings"


def _row(html: str, key: str) -> str:
    """The page's block of one setting."""
    start = html.index(f'id="setting-{key.replace(".", "-")}"')
    end = html.find('<li class="consent setting"', start)
    return html[start : end if end != -1 else len(html)]


async def test_an_admin_locks_a_firm_value_and_a_case_manager_sees_it_read_only(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    court = _row(page.text, "sync.court_date")
    assert "CaseCal&#39;s default" in court or "CaseCal's default" in court
    assert 'name="locked"' in court  # the lock toggle, for those who may lock
    done = await post_form(client, page, f"{PAGE}/sync.court_date", value="off", locked="true",
                           op="save")  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{PAGE}?done=settings-saved"
    page = await client.get(done.headers["location"])
    court = _row(page.text, "sync.court_date")
    assert '<dd class="setting-value">off</dd>' in court
    assert "Locked by your firm" in court
    assert "Your settings are saved." in page.text

    await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    mine = await signed_in_page(client, ui_firm.cm1.email, "/settings")
    court = _row(mine.text, "sync.court_date")
    assert "Locked by your firm (Ada Admin)" in court
    assert "Read-only" in court
    assert 'action="/settings/values/sync.court_date"' not in court
    forced = await client.post("/settings/values/sync.court_date",
                               data={"csrf_token": csrf_of(mine.text), "value": "on"})  # fmt: skip
    assert forced.status_code == 403
    assert "locked by your firm" in forced.text

    async with sessionmaker() as session:
        actions = (
            await session.scalars(select(AuditEvent.action).where(AuditEvent.firm_id == ui_firm.id))
        ).all()
    assert actions.count("setting.set") == 1


async def test_a_team_view_shows_the_firm_lock_and_takes_a_team_lock(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        team = await create_team(session, ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN),
                                 {"name": "Removal"})  # fmt: skip
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    await post_form(client, page, f"{PAGE}/guard.percent", value="50", locked="true",
                    op="save")  # fmt: skip
    team_page = await client.get(PAGE, params={"team_id": str(team.id)})
    assert team_page.status_code == 200, team_page.text
    assert "Firm settings: Removal" in team_page.text
    guard = _row(team_page.text, "guard.percent")
    assert "Locked by your firm" in guard
    assert "<form" not in guard  # read-only below the firm's lock
    done = await post_form(client, team_page, f"{PAGE}/show_as.interview", value="free",
                           locked="true", op="save", team_id=str(team.id))  # fmt: skip
    assert done.headers["location"] == f"{PAGE}?team_id={team.id}&done=settings-saved"
    team_page = await client.get(PAGE, params={"team_id": str(team.id)})
    shown = _row(team_page.text, "show_as.interview")
    assert "Set by your team" in shown
    assert "Locked by your team" in shown
    firm_page = await client.get(PAGE)
    assert "CaseCal" in _row(firm_page.text, "show_as.interview")  # the firm keeps the default
    forced = {"csrf_token": csrf_of(team_page.text), "value": "10", "team_id": str(team.id)}
    refused = await client.post(f"{PAGE}/guard.percent", data=forced)
    assert refused.status_code == 403
    assert "locked by your firm" in refused.text


async def test_a_value_that_does_not_fit_is_refused_and_removal_falls_back(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    bad = await post_form(client, page, f"{PAGE}/guard.minimum", value="lots", op="save")
    assert bad.status_code == 422
    assert "whole numbers only" in bad.text
    bad = await post_form(client, page, f"{PAGE}/reminders.court_date", value="1, 99999999",
                          op="save")  # fmt: skip
    assert bad.status_code == 422
    await post_form(client, page, f"{PAGE}/guard.minimum", value="5", op="save")
    page = await client.get(PAGE)
    assert '<dd class="setting-value">5</dd>' in _row(page.text, "guard.minimum")
    await post_form(client, page, f"{PAGE}/guard.minimum", op="clear")
    page = await client.get(PAGE)
    assert '<dd class="setting-value">25</dd>' in _row(page.text, "guard.minimum")


async def test_only_firm_admins_open_it_and_forms_need_the_csrf_token(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    done = await sign_in(client, ui_firm.cm1.email)
    assert done.status_code == 303
    page = await client.get(PAGE)
    assert page.status_code == 403
    assert "Only a firm admin" in page.text
    mine = await client.get("/settings")
    token = csrf_of(mine.text)
    refused = await client.post(f"{PAGE}/sync.court_date", data={"csrf_token": token, "value": "x"})
    assert refused.status_code == 403
    no_token = await client.post(f"{PAGE}/sync.court_date", data={"value": "off"})
    assert no_token.status_code == 403
    assert "CSRF" in no_token.text
