"""A hypothesis state machine over the real engine, the REST API and each emulator: random host
edits, remote edits (as another client), faults (5xx, 429 bursts, lost responses, cursor expiry)
and crashes at every provider call of a pass (before or after the call took effect). After the
faults stop and the passes drain, both sides agree, nothing is duplicated, and nothing deleted
comes back. SQLite only (the store is not what this explores). Examples per run follow the
hypothesis profile: `HYPOTHESIS_PROFILE=nightly` for the long run."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from remotes import Remote, make_remote
from sqlalchemy import select

from casecal.config import Settings
from casecal.emulators.faults import Fault
from casecal.providers.base import Provider
from casecal.services.firms import create_firm
from casecal.store.migrate import upgrade
from casecal.store.tables import Backfill, Connection, ConnectionStatus, Link, ProviderName
from casecal.sync.engine import SyncEngine
from casecal.web.app import create_app

EMAIL = "sm@sync.example"
SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=2)
TITLES = st.sampled_from(["Alpha", "Bravo", "Charlie", "Delta", "Echo"])
FAULTS = st.sampled_from(["feed_503", "write_429", "lost_create", "cursor_expired"])


class Crash(BaseException):
    """The process died here (not an error the engine may catch)."""


class CrashingProvider:
    """Passes every call to the real adapter, and dies at call number ``at``: before the call
    reaches the provider, or after it took effect there (the dangerous case: a remote write
    whose link was never saved)."""

    def __init__(self, inner: Provider, at: int, after: bool) -> None:
        self.inner, self.at, self.after, self.calls = inner, at, after, 0
        self.capabilities = inner.capabilities

    def _tick(self, phase_after: bool) -> None:
        if phase_after == self.after and self.calls == self.at:
            raise Crash

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name == "changes":

            async def stream(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                self._tick(False)
                async for page in target(*args, **kwargs):
                    yield page
                self._tick(True)

            return stream

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self._tick(False)
            result = await target(*args, **kwargs)
            self._tick(True)
            return result

        return call


class RacingProvider(CrashingProvider):
    """Like a colleague editing in Outlook mid-pass: just before call number ``at``, another
    client retitles a remote event, so a write with the etag read earlier meets a 412."""

    def __init__(self, inner: Provider, at: int, race: Any) -> None:
        super().__init__(inner, at, after=False)
        self.race = race

    def _tick(self, phase_after: bool) -> None:
        if not phase_after and self.calls == self.at:
            self.race()


class SyncMachine(RuleBasedStateMachine):
    provider_name = "google"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.deleted_titles: set[str] = set()
        self.run(self._setup())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _setup(self) -> None:
        url = f"sqlite+aiosqlite:///{Path(self.tmp.name) / 'sm.db'}"
        await asyncio.to_thread(upgrade, url)
        settings_ = Settings(data_dir=Path(self.tmp.name), database_url=url,
                             secret_keys=["k"], base_url="http://testserver",
                             embedded_scheduler=False)  # fmt: skip
        self.app = create_app(settings_)
        self.lifespan = LifespanManager(self.app)
        await self.lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.api = httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1")
        async with self.app.state.sessionmaker() as session:
            firm = await create_firm(session, name="SM", admin_email="a@sm.example",
                                     admin_name="A")  # fmt: skip
        self.firm_id = firm.firm_id
        admin = {"Authorization": f"Bearer {firm.token}"}
        user = (await self.api.post("/users", headers=admin, json={
            "email": EMAIL, "name": "CM", "role": "case_manager"})).json()  # fmt: skip
        token = (await self.api.post(f"/users/{user['id']}/tokens", json={}, headers=admin)).json()
        self.headers = {"Authorization": f"Bearer {token['token']}"}
        self.remote: Remote = make_remote(self.provider_name, EMAIL)
        self.provider, self.http = await self.remote.provider(EMAIL)
        self.connection_id = uuid.uuid4()
        async with self.app.state.sessionmaker() as session, session.begin():
            session.add(Connection(
                id=self.connection_id, firm_id=firm.firm_id, user_id=uuid.UUID(user["id"]),
                provider=ProviderName(self.provider_name), status=ConnectionStatus.ACTIVE,
                calendar_id=self.remote.calendar_id, backfill=Backfill.UPCOMING,
                activated_at=datetime.now(UTC),
            ))  # fmt: skip
        self.crash: tuple[int, bool] | None = None
        self.racing_at: int | None = None

        async def provider_for(_c: Connection) -> Provider:
            if self.racing_at is not None:
                return RacingProvider(self.provider, self.racing_at, self._race)  # type: ignore[return-value]
            if self.crash is None:
                return self.provider
            at, after = self.crash
            return CrashingProvider(self.provider, at, after)  # type: ignore[return-value]

        self.engine = SyncEngine(self.app.state.sessionmaker, provider_for,
                                 base_url="http://testserver")  # fmt: skip

    def teardown(self) -> None:
        async def close() -> None:
            await self.http.aclose()
            await self.api.aclose()
            await self.lifespan.__aexit__(None, None, None)

        self.run(close())
        self.loop.close()
        self.tmp.cleanup()

    # --- host side ---------------------------------------------------------------------------

    async def _host(self) -> list[dict[str, Any]]:
        response = await self.api.get("/appointments", params={"limit": 200}, headers=self.headers)
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    @rule(title=TITLES)
    def host_create(self, title: str) -> None:
        body = {"title": title, "start_at": SOON.isoformat(),
                "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "UTC"}  # fmt: skip
        assert (
            self.run(self.api.post("/appointments", json=body, headers=self.headers)).status_code
            == 201
        )

    @rule(index=st.integers(0, 9), title=TITLES)
    def host_edit(self, index: int, title: str) -> None:
        items = self.run(self._host())
        if items:
            item = items[index % len(items)]
            self.run(self.api.patch(f"/appointments/{item['id']}", json={"title": title},
                                    headers=self.headers))  # fmt: skip

    @rule(title=TITLES)
    def host_create_series(self, title: str) -> None:
        body = {"title": f"{title} weekly", "start_at": SOON.isoformat(),
                "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "America/New_York",
                "rrule": "FREQ=WEEKLY;COUNT=3"}  # fmt: skip
        assert (
            self.run(self.api.post("/appointments", json=body, headers=self.headers)).status_code
            == 201
        )

    @rule(index=st.integers(0, 9))
    def host_delete(self, index: int) -> None:
        items = self.run(self._host())
        if items:
            item = items[index % len(items)]
            self.run(self.api.delete(f"/appointments/{item['id']}", headers=self.headers))

    # --- remote side -------------------------------------------------------------------------

    @rule(title=TITLES)
    def remote_create(self, title: str) -> None:
        self.remote.insert(f"{title} (remote)", SOON, SOON + timedelta(hours=1))

    @rule(title=TITLES)
    def remote_create_series(self, title: str) -> None:
        self.remote.insert_weekly(f"{title} weekly (remote)", SOON, SOON + timedelta(hours=1), 3)

    @rule(index=st.integers(0, 9), title=TITLES)
    def remote_edit(self, index: int, title: str) -> None:
        items = self.remote.items()
        if items:
            self.remote.retitle(items[index % len(items)].id, f"{title} (remote)")

    @rule(index=st.integers(0, 9))
    def remote_delete(self, index: int) -> None:
        items = self.remote.items()
        if items:
            self.remote.delete(items[index % len(items)].id)

    # --- faults and passes -------------------------------------------------------------------

    @rule(fault=FAULTS)
    def arm_fault(self, fault: str) -> None:
        faults = self.remote.faults
        if fault == "feed_503":
            faults.add(Fault(kind="error", status=503, method="GET", path=self.remote.feed_path,
                             times=2))  # fmt: skip
        elif fault == "write_429":
            faults.add(Fault(kind="throttle", method="POST", retry_after=0, times=2))
        elif fault == "lost_create":
            faults.add(Fault(kind="drop", method="POST", times=1))
        else:
            self.remote.expire_cursor()

    @rule()
    def sync(self) -> None:
        self.crash = None
        self.run(self.engine.run_pass(self.firm_id, self.connection_id))

    def _race(self) -> None:
        items = self.remote.items()
        if items:
            self.remote.retitle(items[0].id, "Raced (remote)")

    @rule(at=st.integers(1, 6))
    def sync_while_someone_edits(self, at: int) -> None:
        self.racing_at = at
        try:
            self.run(self.engine.run_pass(self.firm_id, self.connection_id))
        finally:
            self.racing_at = None

    @rule(at=st.integers(1, 6), after=st.booleans())
    def sync_and_crash(self, at: int, after: bool) -> None:
        self.crash = (at, after)
        try:
            self.run(self.engine.run_pass(self.firm_id, self.connection_id))
        except Crash:
            pass
        finally:
            self.crash = None

    def drain_and_check(self) -> None:
        """Stop the faults, let the passes drain, then compare both sides."""
        self.remote.faults.clear()
        for _ in range(6):
            report = self.run(self.engine.run_pass(self.firm_id, self.connection_id))
            if report.outcome in ("paused", "skipped:paused_deletions"):
                # The guard held deletions back, as it should; a person confirms them.
                self.run(self._confirm())
                continue
            assert report.outcome == "ok", report
            if not report.counts.get("in") and not report.counts.get("out"):
                break
        host = sorted(a["title"] for a in self.run(self._host()))
        remote = sorted(i.title for i in self.remote.items())
        assert host == remote, (host, remote)
        assert len(self.remote.items()) == len({i.id for i in self.remote.items()})
        links = self.run(self._links())
        live = [link for link in links if link.tombstoned_at is None]
        assert len(live) == len(host), (len(live), host)
        assert len({link.remote_id for link in live}) == len(live)
        assert len({(link.entry_kind, link.entry_id) for link in live}) == len(live)

    async def _links(self) -> list[Link]:
        async with self.app.state.sessionmaker() as session:
            return list((await session.scalars(select(Link))).all())

    async def _confirm(self) -> None:
        await self.api.post(f"/connections/{self.connection_id}/confirm-deletions",
                            headers=self.headers)  # fmt: skip


def _run_machine(provider: str) -> None:
    class Machine(SyncMachine):
        provider_name = provider

        @initialize()
        def start(self) -> None:
            """Nothing to seed: every run starts with two empty calendars."""

        def teardown(self) -> None:
            try:
                self.drain_and_check()
            finally:
                super().teardown()

    examples = int(os.environ.get("CASECAL_STATE_MACHINE_EXAMPLES", "10"))
    Machine.TestCase.settings = settings(
        max_examples=examples, stateful_step_count=25, deadline=None
    )
    Machine.TestCase().runTest()


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_random_edits_faults_and_crashes_converge(provider: str) -> None:
    _run_machine(provider)
