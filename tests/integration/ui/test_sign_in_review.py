"""What a security review of the sign-in throttle found, each closed: another firm's admin
cannot turn a shadow account with a victim's email into unlimited guesses at the victim's
password; concurrent guesses get no more password checks than the budget; a known browser's
budget starts again only a few times a window; hostile bytes in signed values, cookies and
the email are refused with a page, never a 500 (on SQLite and PostgreSQL); and the argon2
check does not stall the event loop."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import PASSWORD, PASSWORD_HASH, UiFirm, make_ui_firm, sign_in

from casecal.auth.passwords import hash_password, verify_password
from casecal.domain.sign_in_budgets import RESETS
from casecal.services.access import Actor
from casecal.services.users import create_user
from casecal.store.tables import Role

SHADOW_PASSWORD = "the shadow's own password"


def _browser(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _limit(app: FastAPI, value: int) -> None:
    app.state.settings.login_attempts_per_15_minutes = value


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str | None]:
    """Every password check the sign-in service makes, by the stored hash it checks against."""
    seen: Counter[str | None] = Counter()

    def counting(stored_hash: str | None, password: str) -> bool:
        seen[stored_hash] += 1
        return verify_password(stored_hash, password)

    monkeypatch.setattr("casecal.services.sign_in.verify_password", counting)
    return seen


async def test_another_firms_shadow_account_gets_no_more_than_the_shared_budget(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    checks: Counter[str | None],
) -> None:
    _limit(app, 10)
    alpha = await make_ui_firm(sessionmaker, "alpha")
    bravo = await make_ui_firm(sessionmaker, "bravo")
    victim = alpha.admin.email  # alpha's admin: every alpha account has PASSWORD_HASH
    async with sessionmaker() as session:  # bravo's admin adds a bravo user with that email
        bravo_admin = Actor(bravo.admin.id, bravo.id, Role.FIRM_ADMIN)
        fields = {"email": victim, "name": "Shadow", "role": Role.STAFF}
        shadow = await create_user(session, bravo_admin, fields)
        shadow.password_hash = hash_password(SHADOW_PASSWORD)
        await session.commit()

    async with _browser(app, "203.0.113.20") as usual, _browser(app, "10.66.0.2") as attacker:
        assert (await sign_in(usual, victim)).status_code == 303  # alpha's admin, as usual
        usual.cookies.delete("casecal_session")
        assert (await sign_in(attacker, victim, SHADOW_PASSWORD)).status_code == 303
        attacker.cookies.delete("casecal_session")  # a device cookie for the victim's email
        checks.clear()
        statuses: Counter[int] = Counter()
        for round_ in range(5):  # nine guesses, then the shadow's sign-in to reset the budget
            for i in range(9):
                statuses[(await sign_in(attacker, victim, f"guess {round_}.{i}")).status_code] += 1
            assert (await sign_in(attacker, victim, SHADOW_PASSWORD)).status_code == 303
            attacker.cookies.delete("casecal_session")
        right = await sign_in(attacker, victim, PASSWORD)  # the victim's password at last
        assert right.status_code != 303, "the shadow's browser opened the victim's account"
        assert "casecal_session" not in attacker.cookies
        assert checks[PASSWORD_HASH] <= 10  # the victim's account: the shared budget only
        assert 500 not in statuses

        back = await sign_in(usual, victim)  # the victim's usual browser is not locked out
        assert back.status_code == 303, back.text

    async with _browser(app, "192.0.2.60") as new_browser:  # an unknown browser is told to
        waits = await sign_in(new_browser, victim)  # wait, not that the password is wrong
        assert waits.status_code == 429
        assert int(waits.headers["retry-after"]) > 0


async def test_concurrent_guesses_get_no_more_checks_than_the_budget(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], checks: Counter[str | None]
) -> None:
    _limit(app, 5)
    firm = await make_ui_firm(sessionmaker, "alpha")
    browsers = [_browser(app, f"198.51.100.{i + 1}") for i in range(30)]
    forms = [await b.get("/login") for b in browsers]

    async def guess(browser: httpx.AsyncClient, i: int) -> int:
        answer = await browser.post("/login", data={
            "email": firm.admin.email, "password": f"guess {i}",
            "csrf_token": browser.cookies["casecal_login_csrf"],
        })  # fmt: skip
        return answer.status_code

    try:
        statuses = Counter(await asyncio.gather(*(guess(b, i) for i, b in enumerate(browsers))))
    finally:
        for browser in browsers:
            await browser.aclose()
    assert all(form.status_code == 200 for form in forms)
    assert checks[PASSWORD_HASH] <= 5
    assert statuses == {401: checks[PASSWORD_HASH], 429: 30 - checks[PASSWORD_HASH]}


async def test_a_known_browser_starts_its_budget_again_only_a_few_times_a_window(
    app: FastAPI, ui_firm: UiFirm
) -> None:
    _limit(app, 3)
    email = ui_firm.cm1.email
    async with _browser(app, "203.0.113.30") as known:
        assert (await sign_in(known, email)).status_code == 303
        statuses: list[int] = []
        for _ in range(RESETS + 3):  # two typos and a sign-in, again and again
            known.cookies.delete("casecal_session")
            statuses += [(await sign_in(known, email, "typo")).status_code for _ in range(2)]
            statuses.append((await sign_in(known, email)).status_code)
        assert statuses[: 3 * RESETS] == [401, 401, 303] * RESETS  # the resets it may have
        assert 429 in statuses[3 * RESETS :]  # then its budget runs out like anyone's


async def test_hostile_bytes_in_signed_values_and_cookies_are_refused_with_a_page(
    app: FastAPI, ui_firm: UiFirm
) -> None:
    hostile = "a.1.\u00e9"
    async with _browser(app, "203.0.113.40") as browser:
        choose = await browser.post("/login/choose", data={"choice": hostile, "user_id": "x"})
        link = await browser.get("/set-password", params={"token": hostile})
        post = await browser.post("/set-password", data={"token": hostile, "password": "x" * 20})
        assert (await browser.get("/login")).status_code == 200
        csrf = browser.cookies["casecal_login_csrf"]
        raw = b"casecal_login_csrf=" + csrf.encode() + b"; casecal_device=a.1.\xc3\xa9"
        device = await browser.post(
            "/login",
            data={"email": ui_firm.admin.email, "password": PASSWORD, "csrf_token": csrf},
            headers={b"cookie": raw},  # raw UTF-8 bytes, as a client may send them
        )
    assert {
        "POST /login/choose": choose.status_code,
        "GET /set-password": link.status_code,
        "POST /set-password": post.status_code,
        "device cookie": device.status_code,  # an unreadable device cookie is just no device
    } == {
        "POST /login/choose": 403,
        "GET /set-password": 422,
        "POST /set-password": 422,
        "device cookie": 303,
    }


@pytest.mark.parametrize("email", ["a\x00@b.test", "admin@alpha.test\x00", "a\x07b@c.test"])
async def test_control_characters_in_the_email_answer_like_a_wrong_password(
    app: FastAPI, ui_firm: UiFirm, email: str
) -> None:
    async with _browser(app, "203.0.113.50") as browser:
        answer = await sign_in(browser, email, PASSWORD)
        assert answer.status_code == 401
        assert "That email and password do not match an active account." in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the event loop: no SQL
async def test_the_password_check_does_not_block_the_event_loop(
    app: FastAPI, ui_firm: UiFirm, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_check(stored_hash: str | None, password: str) -> bool:
        time.sleep(0.5)  # a slow argon2 verification, as on a busy server
        return False

    monkeypatch.setattr("casecal.services.sign_in.verify_password", slow_check)
    lags: list[float] = []

    async def ticking(until: asyncio.Event) -> None:
        while not until.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - started)

    async with _browser(app, "203.0.113.70") as browser:
        assert (await browser.get("/login")).status_code == 200
        done = asyncio.Event()
        ticker = asyncio.create_task(ticking(done))
        answer = await sign_in(browser, ui_firm.admin.email, "wrong")
        done.set()
        await ticker
    assert answer.status_code == 401
    assert max(lags) < 0.4  # other requests were served while the password was checked
