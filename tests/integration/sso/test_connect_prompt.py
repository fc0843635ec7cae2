"""The connect prompt after a single sign-on, against the emulated Entra ID and Google and the
independent OpenID provider: with ``sso.ask_to_connect`` on, a case manager with a seat and no
calendar goes from the sign-in straight to the connect page, the calendar of their identity
provider pre-selected; "Not now" is remembered for ``sso.ask_to_connect_snooze_days``; a failed
authorisation started there lands on Calendar Sync with the reason; a case manager single
sign-on creates gets a seat when ``sso.seat_at_provisioning`` says so."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import select
from sso_world import BASE, GOOGLE, MICROSOFT, SsoWorld

from casecal.config import Settings
from casecal.domain.settings_catalog import Level
from casecal.services.firm_settings import Scope, set_value
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import (
    AuditEvent,
    Connection,
    ConnectionStatus,
    ProviderName,
    Seat,
)
from casecal.web.ui.prompt_reasons import Reason, landing_url

PROMPT = "/calendar-sync/connect-prompt"
MS_CONNECT = ("casecal-ms", "ms-connect-secret")
GOOGLE_CONNECT = ("casecal-google", "google-connect-secret")


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    """The SSO world's settings, plus CaseCal's own apps for connecting calendars."""
    return Settings(
        data_dir=tmp_path, database_url=database_url, secret_keys=["sso-test-key"],
        base_url=BASE, embedded_scheduler=False,
        google_auth_base_url=GOOGLE, google_token_url=f"{GOOGLE}/token",
        google_api_base_url=GOOGLE, google_client_id=GOOGLE_CONNECT[0],
        google_client_secret=GOOGLE_CONNECT[1],
        microsoft_auth_base_url=MICROSOFT, microsoft_graph_base_url=MICROSOFT,
        microsoft_client_id=MS_CONNECT[0], microsoft_client_secret=MS_CONNECT[1],
    )  # fmt: skip


@pytest.fixture
async def world(sso_world: SsoWorld) -> SsoWorld:
    """The SSO world with CaseCal's connect apps registered and an active subscription."""
    sso_world.microsoft.register_app(*MS_CONNECT, [f"{BASE}/oauth/microsoft/callback"])
    sso_world.google.register_client(*GOOGLE_CONNECT, [f"{BASE}/oauth/google/callback"])
    async with sso_world.app.state.sessionmaker() as session:
        await request_subscription(session, sso_world.admin_actor)
        await activate_subscription(session, sso_world.admin_actor)
    return sso_world


async def _firm_setting(world: SsoWorld, key: str, value: object, *, locked: bool = False) -> None:
    scope = Scope(Level.FIRM, world.firm_id)
    async with world.app.state.sessionmaker() as session:
        await set_value(session, world.admin_actor, scope, key, value, locked=locked)


async def _prompt_on(world: SsoWorld, *, seats: bool = True) -> None:
    await _firm_setting(world, "sso.ask_to_connect", True, locked=True)
    if seats:
        await _firm_setting(world, "sso.seat_at_provisioning", True)


def _path(location: str) -> str:
    return urlsplit(location).path


async def _follow(browser: httpx.AsyncClient, world: SsoWorld, location: str) -> httpx.Response:
    """The browser follows ``location``: at a provider (auto-approving) and back to CaseCal."""
    if not location.startswith(BASE) and location.startswith("http"):
        answer = await world.http.get(location)
        assert answer.status_code in (302, 303), answer.text
        location = answer.headers["location"]
    parts = urlsplit(location)
    return await browser.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)


async def _connect_from_prompt(browser: httpx.AsyncClient, provider: str) -> str:
    """Press the prompt's Connect button; the provider's authorize URL."""
    page = await browser.get(PROMPT)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = await browser.post(
        f"{PROMPT}/connect", data={"csrf_token": csrf.group(1), "provider": provider}
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


async def _csrf(browser: httpx.AsyncClient, path: str = PROMPT) -> str:
    page = await browser.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def _seat(world: SsoWorld, email: str) -> None:
    user = await world.user(email)
    assert user is not None
    async with world.app.state.sessionmaker() as session:
        await add_seat(session, world.admin_actor, user.id)


def _shown(page: httpx.Response) -> str:
    return html.unescape(page.text)


async def test_an_entra_newcomer_is_prompted_with_microsoft_and_connects(world: SsoWorld) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world)
    browser = world.browser()
    done = await world.sign_in("mia@firm-ms.test", browser=browser)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == PROMPT
    mia = await world.user("mia@firm-ms.test")
    assert mia is not None
    async with world.app.state.sessionmaker() as session:
        seat = await session.scalar(select(Seat).where(Seat.user_id == mia.id))
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert seat is not None
    assert seat.firm_id == world.firm_id
    assert {"seat.added", "connect_prompt.shown", "sso.user_provisioned"} <= actions
    page = await browser.get(PROMPT)
    assert page.status_code == 200
    assert "<h1>Connect Microsoft 365</h1>" in page.text
    assert 'data-preselected="microsoft"' in page.text
    assert "Use Google Calendar instead" in page.text
    assert ">Not now</button>" in page.text
    authorize = await _connect_from_prompt(browser, "microsoft")
    assert authorize.startswith(f"{MICROSOFT}/")
    assert "login_hint=mia%40firm-ms.test" in authorize
    back = await _follow(browser, world, authorize)
    assert back.status_code == 303, back.text
    assert "flash=connected" in back.headers["location"]
    async with world.app.state.sessionmaker() as session:
        [conn] = (await session.scalars(select(Connection))).all()
    assert (conn.user_id, conn.provider, conn.account_email) == (
        mia.id, ProviderName.MICROSOFT, "mia@firm-ms.test",
    )  # fmt: skip
    assert conn.refresh_token_enc is not None


async def test_prompt_off_goes_where_the_person_was_going(world: SsoWorld) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _firm_setting(world, "sso.seat_at_provisioning", True)
    done = await world.sign_in("mia@firm-ms.test")
    assert done.status_code == 303, done.text
    assert _path(done.headers["location"]) == "/calendar-sync"
    mia = await world.user("mia@firm-ms.test")
    assert mia is not None
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(Seat.id).where(Seat.user_id == mia.id)) is not None


async def test_without_a_seat_there_is_no_prompt(world: SsoWorld) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world, seats=False)
    done = await world.sign_in("mia@firm-ms.test")
    assert _path(done.headers["location"]) == "/calendar-sync"
    mia = await world.user("mia@firm-ms.test")
    assert mia is not None
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(Seat.id).where(Seat.user_id == mia.id)) is None


async def test_a_person_with_a_connected_calendar_is_not_prompted(world: SsoWorld) -> None:
    await world.configure("oidc")
    await _prompt_on(world)
    await _seat(world, "cara@okta-firm.test")
    async with world.app.state.sessionmaker() as session:
        session.add(Connection(id=uuid.uuid4(), firm_id=world.firm_id, user_id=world.cara.id,
                               provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                               calendar_id="primary"))  # fmt: skip
        await session.commit()
    done = await world.sign_in("cara@okta-firm.test", sub="cara")
    assert done.status_code == 303, done.text
    assert _path(done.headers["location"]) == "/calendar-sync"


async def test_a_generic_oidc_provider_prompts_with_no_provider_preselected(
    world: SsoWorld,
) -> None:
    await world.configure("oidc")
    await _prompt_on(world)
    await _seat(world, "cara@okta-firm.test")
    browser = world.browser()
    done = await world.sign_in("cara@okta-firm.test", sub="cara", browser=browser)
    assert done.headers["location"] == PROMPT
    page = await browser.get(PROMPT)
    assert "<h1>Connect your calendar</h1>" in page.text
    assert 'data-preselected=""' in page.text
    assert "Connect Microsoft 365" in page.text
    assert "Connect Google Calendar" in page.text


async def test_google_workspace_preselects_google(world: SsoWorld) -> None:
    await world.configure("google", allow_provisioning=True)
    await _prompt_on(world)
    world.google.add_calendar("gina@firm.test", "Court dates", access_role="writer")
    browser = world.browser()
    done = await world.sign_in("gina@firm.test", browser=browser)
    assert done.headers["location"] == PROMPT
    page = await browser.get(PROMPT)
    assert "<h1>Connect Google Calendar</h1>" in page.text
    assert 'data-preselected="google"' in page.text
    assert "Use Microsoft 365 instead" in page.text
    authorize = await _connect_from_prompt(browser, "google")
    assert authorize.startswith(f"{GOOGLE}/")
    back = await _follow(browser, world, authorize)
    assert "flash=connected" in back.headers["location"], back.headers


async def test_a_provider_the_firm_does_not_allow_is_not_preselected(world: SsoWorld) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world)
    await _firm_setting(world, "providers.allowed", ["google"])
    browser = world.browser()
    done = await world.sign_in("mia@firm-ms.test", browser=browser)
    assert done.headers["location"] == PROMPT
    page = await browser.get(PROMPT)
    assert 'data-preselected=""' in page.text
    assert "Connect Google Calendar" in page.text
    assert "Microsoft 365" not in page.text
    await _firm_setting(world, "providers.allowed", [])
    again = await world.sign_in("mia@firm-ms.test")
    assert _path(again.headers["location"]) == "/calendar-sync"  # nothing to connect


async def test_not_now_is_remembered_for_the_configured_days_then_asks_again(
    world: SsoWorld,
) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world)
    await _firm_setting(world, "sso.ask_to_connect_snooze_days", 3)
    browser = world.browser()
    assert (await world.sign_in("mia@firm-ms.test", browser=browser)).headers["location"] == PROMPT
    declined = await browser.post(f"{PROMPT}/not-now", data={"csrf_token": await _csrf(browser)})
    assert declined.status_code == 303
    landing = declined.headers["location"]
    assert _path(landing) == "/calendar-sync"
    page = await browser.get(landing)
    assert page.status_code == 200
    assert "Not now: CaseCal will not ask you to connect your calendar when you sign in for the " \
        "next 3 days" in _shown(page)  # fmt: skip
    assert "Connect your calendar" in page.text  # connecting by hand is offered
    assert (await world.sign_in("mia@firm-ms.test")).headers["location"] != PROMPT

    async def declined_ago(age: timedelta) -> None:
        async with world.app.state.sessionmaker() as session:
            [event] = (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "connect_prompt.not_now")
                )
            ).all()
            event.created_at -= age
            await session.commit()

    await declined_ago(timedelta(days=3) - timedelta(minutes=5))
    assert (await world.sign_in("mia@firm-ms.test")).headers["location"] != PROMPT
    await declined_ago(timedelta(minutes=10))  # now three days and five minutes ago
    assert (await world.sign_in("mia@firm-ms.test")).headers["location"] == PROMPT


async def test_a_provider_error_lands_on_calendar_sync_with_the_reason(world: SsoWorld) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world)
    browser = world.browser()
    await world.sign_in("mia@firm-ms.test", browser=browser)
    authorize = await _connect_from_prompt(browser, "microsoft")
    world.microsoft.auto_approve = False
    refused = await world.http.post(authorize, data={"username": "mia@firm-ms.test",
                                                     "decision": "cancel"})  # fmt: skip
    assert refused.status_code in (302, 303), refused.text
    back = await _follow(browser, world, refused.headers["location"])
    assert back.status_code == 303, back.text
    assert _path(back.headers["location"]) == "/calendar-sync"
    page = await browser.get(back.headers["location"])
    text = _shown(page)
    assert "Microsoft did not authorise CaseCal" in text
    assert "You can connect your calendar by hand below." in text
    assert 'role="alert"' in page.text
    assert "Connect your calendar" in page.text


async def test_the_identity_guard_refuses_another_account_and_lands_on_calendar_sync(
    world: SsoWorld,
) -> None:
    await world.configure("entra", allow_provisioning=True)
    await _prompt_on(world)
    browser = world.browser()
    await world.sign_in("mia@firm-ms.test", browser=browser)
    authorize = await _connect_from_prompt(browser, "microsoft")
    parts = urlsplit(authorize)
    query = dict(parse_qsl(parts.query)) | {"login_hint": "eve@other.test"}
    someone_else = urlunsplit(parts._replace(query=urlencode(query)))
    back = await _follow(browser, world, someone_else)
    assert back.status_code == 303, back.text
    assert _path(back.headers["location"]) == "/calendar-sync"
    text = _shown(await browser.get(back.headers["location"]))
    assert "eve@other.test" in text
    assert "You can connect your calendar by hand below." in text
    async with world.app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Connection.refresh_token_enc))).all()
    assert all(token is None for token in stored)  # nothing of Eve's was kept


async def test_a_reason_is_shown_only_to_its_person_and_only_as_signed(world: SsoWorld) -> None:
    await world.configure("oidc")
    await _seat(world, "cara@okta-firm.test")
    browser = world.browser()
    await world.sign_in("cara@okta-firm.test", sub="cara", browser=browser)
    settings: Settings = world.app.state.settings
    mine = landing_url(settings, world.cara.id, Reason("Signed words for Cara.", False))
    assert "Signed words for Cara." in _shown(await browser.get(mine))
    theirs = landing_url(settings, world.admin.id, Reason("Words for the admin.", False))
    assert "Words for the admin." not in _shown(await browser.get(theirs))
    forged = await browser.get("/calendar-sync?prompt=Click%20evil.example")
    assert forged.status_code == 200
    assert "evil.example" not in forged.text


async def test_the_prompt_page_sends_someone_with_nothing_to_connect_to_calendar_sync(
    world: SsoWorld,
) -> None:
    await world.configure("oidc")
    browser = world.browser()
    await world.sign_in("cara@okta-firm.test", sub="cara", browser=browser)
    page = await browser.get(PROMPT)  # no seat
    assert page.status_code == 303
    assert page.headers["location"] == "/calendar-sync"
    forged = await browser.post(f"{PROMPT}/not-now", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    async with world.app.state.sessionmaker() as session:
        none = await session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "connect_prompt.not_now")
        )
    assert none is None
