"""The pages a provider's answer lands on are CaseCal pages (header, navigation, security
headers), keep the long consent link inside the page, and offer the next step on the page
itself: Request approval (the firm admins get the link by email), Connect again."""

from __future__ import annotations

import re

import httpx
from connect_world import World
from sqlalchemy import select

from casecal.services.connect import start_connect
from casecal.store.tables import AuditEvent, Connection, ConnectionStatus, ProviderName

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _connect(
    world: World, who: str, provider: ProviderName, **override: str
) -> httpx.Response:
    async with world.app.state.sessionmaker() as session:
        url = await start_connect(
            session, world.settings, world.actor(who), provider, browser_binding=world.binding(who)
        )
    params = await world.provider_redirect(url, **override)
    return await world.callback(who, f"/oauth/{provider.value}/callback", params)


def _is_an_app_page(page: httpx.Response, name: str) -> None:
    assert 'class="topbar"' in page.text
    assert 'href="/calendar-sync"' in page.text  # the navigation
    assert name in page.text  # who is signed in, with Sign out
    assert 'action="/logout"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_approval_required_is_an_app_page_with_request_approval_on_it(
    world: World,
) -> None:
    world.microsoft.set_consent_policy(world.tenant_id, True)
    page = await _connect(world, "ann", ProviderName.MICROSOFT)
    assert page.status_code == 200
    assert "<h1>Approval required</h1>" in page.text
    _is_an_app_page(page, "Ann Lee")
    link = re.search(r'<p class="long-link"><code>([^<]+)</code>', page.text)
    assert link is not None  # the link wraps inside the page
    assert f"/{world.tenant_id}/v2.0/adminconsent" in link.group(1)
    assert "on the Microsoft page" not in page.text  # no pointer to a page already left
    [conn] = await _connections(world)
    action = f'action="/calendar-sync/connections/{conn.id}/request-approval"'
    assert action in page.text

    csrf = _CSRF.search(page.text)
    assert csrf is not None
    asked = await world.web.post(
        f"/calendar-sync/connections/{conn.id}/request-approval",
        data={"csrf_token": csrf.group(1)},
        headers={"Cookie": f"casecal_session={world.cookies['ann']}"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == "/calendar-sync?done=approval-requested"
    [mail] = world.inbox.to("admin@contoso.com")
    body = mail.get_content()
    assert "Ann Lee (ann@contoso.com)" in body
    assert f"/{world.tenant_id}/v2.0/adminconsent" in body
    links = re.findall(r"https?://\S+", body)
    assert any(link.endswith("/calendar-sync") for link in links), body
    assert not [link for link in links if link[-1] in "),.;:"], links  # each one copies whole
    async with world.app.state.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert "consent.approval_requested" in actions


async def test_request_approval_is_refused_when_nothing_awaits_consent(world: World) -> None:
    page = await _connect(world, "ann", ProviderName.MICROSOFT)  # no consent needed here
    assert page.status_code == 303
    [conn] = await _connections(world)
    assert conn.status is ConnectionStatus.PENDING
    sync_page = await world.web.get(
        "/calendar-sync", headers={"Cookie": f"casecal_session={world.cookies['ann']}"}
    )
    csrf = _CSRF.search(sync_page.text)
    assert csrf is not None
    refused = await world.web.post(
        f"/calendar-sync/connections/{conn.id}/request-approval",
        data={"csrf_token": csrf.group(1)},
        headers={"Cookie": f"casecal_session={world.cookies['ann']}"},
    )
    assert refused.status_code == 409
    assert "not waiting for admin consent" in refused.text
    assert world.inbox.to("admin@contoso.com") == []


async def test_not_your_account_is_an_app_page_with_connect_again(world: World) -> None:
    page = await _connect(world, "bob", ProviderName.GOOGLE, login_hint="admin@contoso.com")
    assert page.status_code == 400
    assert "<h1>That was not your account</h1>" in page.text
    _is_an_app_page(page, "Bob Brown")
    assert 'action="/calendar-sync/connect"' in page.text
    assert 'name="provider" value="google"' in page.text
    assert ">Connect again</button>" in page.text


async def test_the_admins_consent_without_a_session_is_thanked_not_asked_for_approval(
    world: World,
) -> None:
    page = await world.web.get(
        "/oauth/microsoft/adminconsent/callback",
        params={"admin_consent": "True", "tenant": world.tenant_id},
    )
    assert page.status_code == 200
    assert "<h1>Consent recorded</h1>" in page.text
    assert "Approval required" not in page.text
    assert 'class="topbar"' in page.text
    assert 'href="/login?next=/calendar-sync"' in page.text


async def _connections(world: World) -> list[Connection]:
    async with world.app.state.sessionmaker() as session:
        return list(await session.scalars(select(Connection)))
