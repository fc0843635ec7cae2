"""The sign-in throttle: an attacker cannot lock the owner's known browser out, every 429 says
when to retry, a known browser has a budget of its own, ``X-Forwarded-For`` counts only from
trusted proxies, and the counts live in the database (hashed keys that expire and are purged).
Two real processes sharing the budget: ``tests/e2e/test_sign_in_processes.py``."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import PASSWORD, UiFirm, csrf_of, sign_in

from casecal.auth.throttle import admit, spend
from casecal.domain.sign_in_budgets import Budget, Gate, throttle_key
from casecal.store.tables import SignInThrottle, utcnow
from casecal.sync.housekeeping import purge

# The throttle's statements are dialect-specific upserts: both databases run them.


def _browser(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _post_login(client: httpx.AsyncClient, csrf: str, email: str, password: str,
                      **headers: str) -> httpx.Response:  # fmt: skip
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf},
        headers=headers,
    )


def _limit(app: FastAPI, value: int) -> None:
    """A small budget keeps the tests quick (each failure costs one argon2 verification)."""
    app.state.settings.login_attempts_per_15_minutes = value


async def test_attackers_thousand_guesses_do_not_lock_the_admin_out_of_their_browser(
    app: FastAPI, ui_firm: UiFirm
) -> None:
    admin = ui_firm.admin.email
    async with _browser(app, "203.0.113.7") as usual, _browser(app, "198.51.100.1") as attacker:
        assert (await sign_in(usual, admin)).status_code == 303  # the browser is known now
        assert usual.cookies.get("casecal_device")
        usual.cookies.delete("casecal_session")  # the session ended; the device cookie stays

        csrf = csrf_of((await attacker.get("/login")).text)
        transport = attacker._transport
        assert isinstance(transport, httpx.ASGITransport)
        statuses: Counter[int] = Counter()
        waits: set[str] = set()
        for i in range(1000):  # from 1,000 addresses
            transport.client = (f"198.51.{100 + i // 250}.{i % 250 + 1}", 40000 + i)
            answer = await _post_login(attacker, csrf, admin, f"guess {i}")
            statuses[answer.status_code] += 1
            if answer.status_code == 429:
                waits.add(answer.headers["retry-after"])
        assert statuses == {401: 10, 429: 990}
        assert all(0 < int(wait) <= 900 for wait in waits)
        assert "casecal_session" not in attacker.cookies

        back = await sign_in(usual, admin)  # the owner's usual browser, the right password
        assert back.status_code == 303, back.text
        assert usual.cookies.get("casecal_session")

    async with _browser(app, "192.0.2.50") as new_browser:  # OWASP's trade-off: an unknown
        refused = await sign_in(new_browser, admin)  # browser waits out the email's lock
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0


async def test_a_known_browser_spends_its_own_budget(app: FastAPI, ui_firm: UiFirm) -> None:
    _limit(app, 3)
    email = ui_firm.cm1.email
    async with _browser(app, "203.0.113.8") as known, _browser(app, "203.0.113.9") as other:
        assert (await sign_in(known, email)).status_code == 303
        known.cookies.delete("casecal_session")
        for _ in range(3):
            assert (await sign_in(known, email, "typo")).status_code == 401
        locked = await sign_in(known, email)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        # the device's failures did not touch the email's shared budget
        assert (await sign_in(other, email)).status_code == 303


async def test_a_known_browser_signing_in_starts_its_budget_again(
    app: FastAPI, ui_firm: UiFirm
) -> None:
    _limit(app, 3)
    email = ui_firm.cm2.email
    async with _browser(app, "203.0.113.12") as known:
        assert (await sign_in(known, email)).status_code == 303
        for _ in range(3):
            known.cookies.delete("casecal_session")
            for _ in range(2):
                assert (await sign_in(known, email, "typo")).status_code == 401
            assert (await sign_in(known, email)).status_code == 303


async def test_a_device_cookie_is_for_its_email_only(app: FastAPI, ui_firm: UiFirm) -> None:
    _limit(app, 2)
    async with _browser(app, "203.0.113.10") as browser, _browser(app, "203.0.113.11") as b2:
        assert (await sign_in(browser, ui_firm.cm2.email)).status_code == 303
        browser.cookies.delete("casecal_session")
        for _ in range(2):  # cm2's device cookie is not trusted for cm1's email
            assert (await sign_in(browser, ui_firm.cm1.email, "x")).status_code == 401
        assert (await sign_in(b2, ui_firm.cm1.email)).status_code == 429
        forged = browser.cookies["casecal_device"][:-2] + "xx"
        browser.cookies.set("casecal_device", forged, path="/login")
        assert (await sign_in(browser, ui_firm.cm1.email)).status_code == 429


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # addresses: no SQL
async def test_forwarded_for_counts_only_from_trusted_proxies(
    app: FastAPI, ui_firm: UiFirm
) -> None:
    _limit(app, 1)  # an address may fail 10 times
    async with _browser(app, "10.1.2.3") as client:
        csrf = csrf_of((await client.get("/login")).text)
        for i in range(10):  # a client spoofing X-Forwarded-For is still its own address
            spoofed = await _post_login(client, csrf, f"n{i}@x.test", "x",
                                        **{"X-Forwarded-For": f"192.0.2.{i}"})  # fmt: skip
            assert spoofed.status_code == 401
        over = await _post_login(
            client, csrf, "n10@x.test", "x", **{"X-Forwarded-For": "192.0.2.99"}
        )
        assert over.status_code == 429

    app.state.settings.trusted_proxies = ["10.9.0.0/16"]
    async with _browser(app, "10.9.0.1") as proxy:
        csrf = csrf_of((await proxy.get("/login")).text)
        for i in range(12):  # distinct clients behind the proxy: their own budgets
            behind = await _post_login(proxy, csrf, f"p{i}@x.test", "x",
                                       **{"X-Forwarded-For": f"6.6.6.6, 192.0.2.{i}"})  # fmt: skip
            assert behind.status_code == 401
        for i in range(10):  # one client behind the proxy: its budget runs out
            same = await _post_login(proxy, csrf, f"q{i}@x.test", "x",
                                     **{"X-Forwarded-For": "192.0.2.200"})  # fmt: skip
            assert same.status_code == 401
        over = await _post_login(
            proxy, csrf, "q10@x.test", "x", **{"X-Forwarded-For": "192.0.2.200"}
        )
        assert over.status_code == 429
        assert over.headers["retry-after"]


async def test_counts_are_hashed_expire_and_are_purged(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    old = Budget(throttle_key("email", "old@x.test"), limit=1)
    new = Budget(throttle_key("email", "new@x.test"), limit=2)
    async with sessionmaker() as session:
        await spend(session, old, now - timedelta(hours=1))
        assert await spend(session, old, now - timedelta(minutes=59)) is not None  # over: locked
        await admit(session, [Gate((new,))], now)  # the old row expired: purged
        keys = list(await session.scalars(select(SignInThrottle.key)))
        assert keys == [new.key]
        dump = repr((await session.execute(text("SELECT * FROM sign_in_throttle"))).all())
    assert "new@x.test" not in dump
    assert len(new.key) == 64


async def test_scheduled_housekeeping_purges_expired_keys(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    gone, kept = (Budget(throttle_key("addr", a), limit=5) for a in ("192.0.2.1", "192.0.2.2"))
    async with sessionmaker() as session:
        await admit(session, [Gate((kept,))], now)
        await admit(session, [Gate((gone,))], now - timedelta(hours=2))  # nothing after it
    async with sessionmaker() as session, session.begin():
        purged = await purge(session, now)
    assert purged.throttle_keys_deleted == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(SignInThrottle.key))) == [kept.key]


async def test_the_window_moves_on(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    budget = Budget(throttle_key("email", "w@x.test"), limit=2)
    async with sessionmaker() as session:
        assert await spend(session, budget, now - timedelta(minutes=20)) is None
        assert await spend(session, budget, now) is None  # the first attempt left the window
        assert await spend(session, budget, now + timedelta(minutes=1)) is None
        until = await spend(session, budget, now + timedelta(minutes=2))  # the third: over
        assert until == now + timedelta(minutes=17)
        assert await spend(session, budget, now + timedelta(minutes=16)) == until
        assert await spend(session, budget, now + timedelta(minutes=18)) is None  # a new window


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_login_page_answers_429_with_retry_after_in_minutes(
    app: FastAPI, client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    _limit(app, 1)
    assert (await sign_in(client, ui_firm.staff.email, "nope")).status_code == 401
    locked = await sign_in(client, ui_firm.staff.email, PASSWORD)
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.text
    assert locked.headers["retry-after"] in {"899", "900"}
