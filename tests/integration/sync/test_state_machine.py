"""A hypothesis state machine over the real engine, the REST API and each emulator.

Two case managers, each with an active connection to their own calendar on the same emulated
provider (Google or Microsoft). The rules drive, in any order:

- host edits through the REST API: appointments and weekly series created, retitled, deleted,
  one occurrence of a series cancelled (an EXDATE), and either a series' number of
  occurrences changed or one occurrence moved and retitled on its own (an override);
- remote edits as another client (Outlook, the Google Calendar app): events and series
  created, retitled, deleted, one occurrence deleted, and either a series' number of
  occurrences changed or one occurrence moved and retitled (an exception); court-date
  events are edited and deleted too, and the host must win those back;
- court dates added to two cases and retyped, and cases reassigned from one case manager to
  the other or to both, through the API;
- faults: 503 on the change feed, 429 bursts on writes, lost responses, gateway timeouts on
  the feed and on writes (one that retries absorb, one that outlasts them), cursor expiry;
  a case manager confirming deletions the mass-delete guard held back;
- passes: of both connections, or of one with another client editing just before a provider
  call (a 412 race), dying at a provider call (before it or after it took effect), or dying
  at a database commit of the engine (before it or just after it).

Then the faults stop and both connections drain, and for each case manager:

- both sides agree: the remote calendar shows exactly the host's appointments of that case
  manager plus the court dates of the cases assigned to them (host-authoritative), occurrence
  by occurrence (title and start), so recurrence rules, cancelled occurrences and duplicates
  are all compared; every event is linked once;
- no change is lost, every conflict has a record, and nothing deleted comes back: see
  ``sm_ledger`` for the rules and why they are sound.

Each provider runs twice: with changes of a series' number of occurrences, and with
occurrences changed on their own (the two together are outside what the sync promises: see
docs/design/reconcile.md). SQLite only (the store is not what this explores). ``make test``
runs it with ``HYPOTHESIS_PROFILE=ci`` (derandomized): 10 examples of up to 40 steps per
run. The nightly run explores at length (about 1-2 s per example on 2 cores):

    HYPOTHESIS_PROFILE=nightly CASECAL_STATE_MACHINE_EXAMPLES=500 \\
        .venv/bin/python -m pytest -q tests/integration/sync/test_state_machine.py

``CASECAL_STATE_MACHINE_STEPS`` sets the steps per example (40 by default)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dateutil.rrule import rrulestr
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from remotes import RemoteItem
from sm_ledger import Ledger
from sm_views import (
    cancel_occurrence,
    change_occurrence,
    host_occurrences,
    is_court_date,
    is_series,
    remote_occurrences,
    set_occurrence_count,
)
from sm_world import Crash, Manager, World, build_world, migrated_database
from sqlalchemy import select

from casecal.config import Settings
from casecal.emulators.faults import Fault
from casecal.store.tables import ConflictRecord, Link
from casecal.sync.engine import PassReport
from casecal.web.app import create_app

NOW = datetime.now(UTC).replace(microsecond=0, second=0, minute=0)
SOON = NOW + timedelta(days=2)
HOUR = timedelta(hours=1)
WINDOW = (NOW - timedelta(days=1), NOW + timedelta(days=120))
"""Where the final comparison looks; every entry the machine makes falls in it."""
NEW_YORK = "America/New_York"

WORDS = st.sampled_from(["Alpha", "Bravo", "Charlie", "Delta", "Echo"])
WHO = st.integers(0, 1)
INDEX = st.integers(0, 9)
COUNTS = st.integers(3, 6)
HEARINGS = st.sampled_from(["Master Calendar Hearing", "Individual Hearing", "Bond Hearing"])
FAULTS = st.sampled_from(
    [
        "feed_503",
        "write_429",
        "lost_create",
        "cursor_expired",
        "feed_timeout",
        "create_timeout",
        "update_timeout_persistent",
    ]
)
TIMEOUT = 0.01
"""Seconds a timeout fault holds the request before its 504: tiny, so runs stay fast."""


def _fault(name: str, feed: str, provider: str) -> Fault:
    """The emulator fault called ``name``; ``feed`` matches the change feed's path."""
    update = "PATCH" if provider == "microsoft" else "PUT"
    if name == "feed_503":
        return Fault(kind="error", status=503, method="GET", path=feed, times=2)
    if name == "write_429":
        return Fault(kind="throttle", method="POST", retry_after=0, times=2)
    if name == "lost_create":
        return Fault(kind="drop", method="POST", times=1)
    if name == "feed_timeout":
        return Fault(kind="timeout", method="GET", path=feed, delay=TIMEOUT, times=1)
    if name == "create_timeout":
        return Fault(kind="timeout", method="POST", delay=TIMEOUT, times=1)
    # More timeouts than the retries allow: the pass fails, and a later one redoes the work.
    assert name == "update_timeout_persistent", name
    return Fault(kind="timeout", method=update, delay=TIMEOUT, times=6)


@dataclass
class CaseModel:
    id: str
    number: str
    beneficiary: str
    managers: tuple[int, ...]


@dataclass
class CourtDateModel:
    id: str
    case: int
    hearing: str
    start: datetime


class SyncMachine(RuleBasedStateMachine):
    provider_name = "google"
    count_edits = True
    """Rules that change a series' number of occurrences, on either side."""
    occurrence_edits = False
    """Rules that move and retitle one occurrence of a series, on either side."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.ledger = Ledger()
        self.cases: list[CaseModel] = []
        self.court_dates: list[CourtDateModel] = []
        self.run(self._setup())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _setup(self) -> None:
        url = await asyncio.to_thread(migrated_database, Path(self.tmp.name))
        settings_ = Settings(
            data_dir=Path(self.tmp.name),
            database_url=url,
            secret_keys=["k"],
            base_url="http://testserver",
            embedded_scheduler=False,
        )
        self.app = create_app(settings_)
        self.lifespan = LifespanManager(self.app)
        await self.lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.api = httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1")
        self.world: World = await build_world(self.app, self.api, self.provider_name)
        for index, beneficiary in enumerate(["Ana Gutierrez", "Omar Haddad"]):
            number = f"SM-{index + 1}"
            case = await self._call(
                "POST",
                "/cases",
                201,
                {
                    "number": number,
                    "beneficiary": beneficiary,
                    "manager_ids": [str(self.world.managers[index].user_id)],
                },
            )
            self.cases.append(CaseModel(case["id"], number, beneficiary, (index,)))
            await self._add_court_date(index, "Master Calendar Hearing", days=3)

    def teardown(self) -> None:
        async def close() -> None:
            await self.world.close()
            await self.api.aclose()
            await self.lifespan.__aexit__(None, None, None)

        self.run(close())
        self.loop.close()
        self.tmp.cleanup()

    # --- reading both sides ------------------------------------------------------------------

    @property
    def managers(self) -> list[Manager]:
        return self.world.managers

    async def _call(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        response = await self.api.request(
            method, path, json=body, headers=headers or self.world.admin
        )
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    def _as(
        self, who: int, method: str, path: str, status: int, body: dict[str, Any] | None = None
    ) -> Any:
        """A call of case manager ``who`` that must answer ``status``."""
        return self.run(self._call(method, path, status, body, self.managers[who].headers))

    async def _appointments(self) -> list[tuple[int, dict[str, Any]]]:
        """Every live appointment of the firm with the index of its owner, in an order that
        replays (by title: unique in a run; ids are random), so rules pick the same items."""
        found: list[tuple[int, dict[str, Any]]] = []
        for m in self.managers:  # each owner reads theirs in full (imports are theirs alone)
            page = await self._call("GET", "/appointments?limit=200", 200, headers=m.headers)
            found += [(m.index, a) for a in page["items"] if a["owner_id"] == str(m.user_id)]
        return sorted(found, key=lambda pair: (pair[1]["title"], pair[1]["created_at"]))

    def _remote_items(self) -> list[tuple[int, RemoteItem]]:
        """Every event of both calendars, in an order that replays (as ``_appointments``)."""
        found = [(m.index, item) for m in self.managers for item in m.remote.items()]
        return sorted(found, key=lambda pair: (pair[0], pair[1].title))

    async def _observe(self) -> None:
        """Tell the ledger what each side holds now."""
        appointments = await self._appointments()
        for m in self.managers:
            self.ledger.seen(
                m.index, "host", [a["title"] for who, a in appointments if who == m.index]
            )
            self.ledger.seen(m.index, "remote", [item.title for item in m.remote.items()])

    # --- host side ---------------------------------------------------------------------------

    @rule(who=WHO, word=WORDS)
    def host_create(self, who: int, word: str) -> None:
        title = self.ledger.title(word)
        body = {
            "title": title,
            "start_at": SOON.isoformat(),
            "end_at": (SOON + HOUR).isoformat(),
            "time_zone": "UTC",
        }
        made = self._as(who, "POST", "/appointments", 201, body)
        self.ledger.wrote(who, "host", made["id"], title)

    @rule(who=WHO, word=WORDS, count=COUNTS)
    def host_create_series(self, who: int, word: str, count: int) -> None:
        title = self.ledger.title(word, " weekly")
        body = {
            "title": title,
            "start_at": SOON.isoformat(),
            "end_at": (SOON + HOUR).isoformat(),
            "time_zone": NEW_YORK,
            "rrule": f"FREQ=WEEKLY;COUNT={count}",
        }
        made = self._as(who, "POST", "/appointments", 201, body)
        self.ledger.wrote(who, "host", made["id"], title)

    @rule(index=INDEX, word=WORDS)
    def host_edit(self, index: int, word: str) -> None:
        found = self.run(self._appointments())
        if found:
            who, item = found[index % len(found)]
            self.ledger.overwriting(who, "host", item["id"], item["title"])
            title = self.ledger.title(word)
            self._as(who, "PATCH", f"/appointments/{item['id']}", 200, {"title": title})
            self.ledger.wrote(who, "host", item["id"], title)

    @rule(index=INDEX)
    def host_delete(self, index: int) -> None:
        found = self.run(self._appointments())
        if found:
            who, item = found[index % len(found)]
            self.ledger.deleting(who, "host", item["id"], item["title"])
            self._as(who, "DELETE", f"/appointments/{item['id']}", 204)

    def _host_series(self) -> list[tuple[int, dict[str, Any]]]:
        return [(who, a) for who, a in self.run(self._appointments()) if a["rrule"]]

    @precondition(lambda self: self.count_edits)
    @rule(index=INDEX, count=COUNTS)
    def host_change_occurrences(self, index: int, count: int) -> None:
        """A recurrence change on the host: the series now occurs ``count`` times."""
        found = self._host_series()
        if found:
            who, item = found[index % len(found)]
            body = {"rrule": f"FREQ=WEEKLY;COUNT={count}"}
            self.ledger.changed_other_fields(who, "host", item["title"])
            self._as(who, "PATCH", f"/appointments/{item['id']}", 200, body)

    @rule(index=INDEX, nth=st.integers(1, 2))
    def host_cancel_occurrence(self, index: int, nth: int) -> None:
        """One occurrence of a series is cancelled on the host (an EXDATE)."""
        found = self._host_series()
        if found:
            who, item = found[index % len(found)]
            start = datetime.fromisoformat(item["start_at"]).astimezone(ZoneInfo(item["time_zone"]))
            cancelled = (start + timedelta(days=7 * nth)).isoformat()  # same wall-clock time
            if cancelled not in item["exdates"]:
                body = {"exdates": [*item["exdates"], cancelled]}
                self.ledger.changed_other_fields(who, "host", item["title"])
                self._as(who, "PATCH", f"/appointments/{item['id']}", 200, body)

    @precondition(lambda self: self.occurrence_edits)
    @rule(index=INDEX, nth=st.integers(1, 2), word=WORDS)
    def host_change_occurrence(self, index: int, nth: int, word: str) -> None:
        """One occurrence of a series moved two hours later and retitled on the host."""
        found = self._host_series()
        if not found:
            return
        who, item = found[index % len(found)]
        zone = ZoneInfo(item["time_zone"])
        start = datetime.fromisoformat(item["start_at"]).astimezone(zone)
        original = start + timedelta(days=7 * nth)  # same wall-clock time
        slots = rrulestr(item["rrule"], dtstart=start).between(original, original, inc=True)
        cancelled = {datetime.fromisoformat(x) for x in item["exdates"]}
        if not slots or original in cancelled:
            return
        moved = original + 2 * HOUR
        change = {"original_start": original.isoformat(), "start": moved.isoformat(),
                  "end": (moved + HOUR).isoformat(),
                  "title": self.ledger.title(word, " (occurrence)")}  # fmt: skip
        kept = [
            o
            for o in item["overrides"]
            if datetime.fromisoformat(o["original_start"]) not in {original, *cancelled}
        ]
        self.ledger.changed_other_fields(who, "host", item["title"])
        self._as(who, "PATCH", f"/appointments/{item['id']}", 200, {"overrides": [*kept, change]})

    # --- remote side -------------------------------------------------------------------------

    @rule(who=WHO, word=WORDS)
    def remote_create(self, who: int, word: str) -> None:
        title = self.ledger.title(word, " (remote)")
        event_id = self.managers[who].remote.insert(title, SOON, SOON + HOUR)
        self.ledger.wrote(who, "remote", event_id, title)

    @rule(who=WHO, word=WORDS)
    def remote_create_series(self, who: int, word: str) -> None:
        title = self.ledger.title(word, " weekly (remote)")
        event_id = self.managers[who].remote.insert_weekly(title, SOON, SOON + HOUR, 3)
        self.ledger.wrote(who, "remote", event_id, title)

    @rule(index=INDEX, word=WORDS)
    def remote_edit(self, index: int, word: str) -> None:
        found = self._remote_items()
        if found:
            who, item = found[index % len(found)]
            self._remote_retitle(who, item, self.ledger.title(word, " (remote)"))

    def _remote_retitle(self, who: int, item: RemoteItem, title: str) -> None:
        remote = self.managers[who].remote
        if is_court_date(remote, item.id):
            remote.retitle(item.id, title)  # host-authoritative: overwritten, not a change
            return
        self.ledger.overwriting(who, "remote", item.id, item.title)
        remote.retitle(item.id, title)
        self.ledger.wrote(who, "remote", item.id, title)

    @rule(index=INDEX)
    def remote_delete(self, index: int) -> None:
        found = self._remote_items()
        if found:
            who, item = found[index % len(found)]
            remote = self.managers[who].remote
            if not is_court_date(remote, item.id):
                self.ledger.deleting(who, "remote", item.id, item.title)
            remote.delete(item.id)

    @precondition(lambda self: self.count_edits)
    @rule(index=INDEX, count=COUNTS)
    def remote_change_occurrences(self, index: int, count: int) -> None:
        """A recurrence change by another client: the series now occurs ``count`` times."""
        found = [(w, i) for w, i in self._remote_items() if self._series(w, i)]
        if found:
            who, item = found[index % len(found)]
            self.ledger.changed_other_fields(who, "remote", item.title)
            set_occurrence_count(self.managers[who].remote, item.id, count)

    @rule(index=INDEX, nth=st.integers(1, 2))
    def remote_cancel_occurrence(self, index: int, nth: int) -> None:
        """Another client deletes one occurrence of a series."""
        found = [(w, i) for w, i in self._remote_items() if self._series(w, i)]
        if found:
            who, item = found[index % len(found)]
            manager = self.managers[who]
            self.ledger.changed_other_fields(who, "remote", item.title)
            self.run(cancel_occurrence(manager.remote, manager.adapter, item.id, nth))

    @precondition(lambda self: self.occurrence_edits)
    @rule(index=INDEX, nth=st.integers(0, 2), word=WORDS)
    def remote_change_occurrence(self, index: int, nth: int, word: str) -> None:
        """Another client moves one occurrence of a series two hours later and retitles it."""
        found = [(w, i) for w, i in self._remote_items() if self._series(w, i)]
        if found:
            who, item = found[index % len(found)]
            manager = self.managers[who]
            title = self.ledger.title(word, " (occurrence)")
            self.ledger.changed_other_fields(who, "remote", item.title)
            self.run(change_occurrence(manager.remote, manager.adapter, item.id, nth, title))

    def _series(self, who: int, item: RemoteItem) -> bool:
        return is_series(self.managers[who].remote, item.id)

    # --- cases and court dates ---------------------------------------------------------------

    @rule(case=st.integers(0, 1), hearing=HEARINGS, days=st.integers(1, 20))
    def add_court_date(self, case: int, hearing: str, days: int) -> None:
        self.run(self._add_court_date(case, hearing, days))

    async def _add_court_date(self, case: int, hearing: str, days: int) -> None:
        start = SOON + timedelta(days=days)
        body = {
            "case_id": self.cases[case].id,
            "hearing_type": hearing,
            "start_at": start.isoformat(),
            "time_zone": "America/Chicago",
        }
        made = await self._call("POST", "/court-dates", 201, body)
        self.court_dates.append(CourtDateModel(made["id"], case, hearing, start))

    @rule(index=INDEX, hearing=HEARINGS)
    def retype_court_date(self, index: int, hearing: str) -> None:
        if self.court_dates:
            court_date = self.court_dates[index % len(self.court_dates)]
            self.run(
                self._call("PATCH", f"/court-dates/{court_date.id}", 200, {"hearing_type": hearing})
            )
            court_date.hearing = hearing

    @rule(case=st.integers(0, 1), to_both=st.booleans())
    def reassign_case(self, case: int, to_both: bool) -> None:
        """The case moves to the other case manager (or, with ``to_both``, to both)."""
        model = self.cases[case]
        managers = (0, 1) if to_both else (1,) if model.managers == (0,) else (0,)
        ids = [str(self.managers[i].user_id) for i in managers]
        self.run(self._call("PATCH", f"/cases/{model.id}", 200, {"manager_ids": ids}))
        model.managers = managers

    def _court_titles(self, who: int) -> list[tuple[str, datetime]]:
        """The court dates ``who``'s calendar must show: those of the cases assigned to them."""
        shown = []
        for court_date in self.court_dates:
            case = self.cases[court_date.case]
            if who in case.managers:
                title = f"Court: {court_date.hearing} - {case.beneficiary} ({case.number})"
                shown.append((title, court_date.start))
        return shown

    @rule(who=WHO)
    def confirm_deletions(self, who: int) -> None:
        """The case manager releases deletions the mass-delete guard held back (a 409 when
        nothing waits for a confirmation)."""
        manager = self.managers[who]
        response = self.run(
            self.api.post(
                f"/connections/{manager.connection_id}/confirm-deletions", headers=manager.headers
            )
        )
        assert response.status_code in (200, 409), response.text

    # --- faults and passes -------------------------------------------------------------------

    @rule(fault=FAULTS)
    def arm_fault(self, fault: str) -> None:
        remote = self.managers[0].remote  # one emulator: its faults hit every connection
        if fault == "cursor_expired":
            remote.expire_cursor()
        else:
            remote.faults.add(_fault(fault, remote.feed_path, self.provider_name))

    def _pass(self, who: int) -> PassReport | None:
        """One pass of ``who``'s connection; None when it died."""
        manager = self.managers[who]
        try:
            report: PassReport = self.run(
                self.world.engine.run_pass(self.world.firm_id, manager.connection_id)
            )
            return report
        except Crash:
            return None
        finally:
            self.world.hazards.crash = self.world.hazards.race = None
            self.world.crasher.disarm()
            self.run(self._observe())

    @rule(first=WHO)
    def sync(self, first: int) -> None:
        """A pass of each connection, ``first``'s first (a reassignment needs both)."""
        self._pass(first)
        self._pass(1 - first)

    @rule(who=WHO, at=st.integers(1, 6))
    def sync_while_someone_edits(self, who: int, at: int) -> None:
        """Another client edits just before the ``at``-th provider call: a write with the
        etag read earlier meets a 412."""
        self.world.hazards.race = (at, lambda: self._race(who))
        self._pass(who)

    def _race(self, who: int) -> None:
        """Another client retitles an event mid-pass (the ledger looks before it does)."""
        items = [item for w, item in self._remote_items() if w == who]
        if items:
            self.ledger.seen(who, "remote", [item.title for item in items])
            self._remote_retitle(who, items[0], self.ledger.title("Raced", " (remote)"))

    @rule(who=WHO, at=st.integers(1, 6), after=st.booleans())
    def sync_and_crash(self, who: int, at: int, after: bool) -> None:
        """The process dies at the ``at``-th provider call, before it or once it took effect."""
        self.world.hazards.crash = (at, after)
        self._pass(who)

    @rule(who=WHO, at=st.integers(1, 10), after=st.booleans())
    def sync_and_crash_at_commit(self, who: int, at: int, after: bool) -> None:
        """The process dies at the ``at``-th database commit of the pass: before it (the
        transaction is lost) or just after it (durable, and nothing after it ran)."""
        self.world.crasher.arm(at, after=after)
        self._pass(who)

    # --- the drain and the checks ------------------------------------------------------------

    def drain_and_check(self) -> None:
        """Stop the faults, let both connections' passes drain, then compare both sides."""
        self.managers[0].remote.faults.clear()
        self._drain()
        appointments = self.run(self._appointments())
        links: list[Link] = self.run(self._rows(Link))
        conflicts: list[ConflictRecord] = self.run(self._rows(ConflictRecord))
        for manager in self.managers:
            mine = [a for who, a in appointments if who == manager.index]
            linked = [x for x in links if x.connection_id == manager.connection_id]
            self._check_calendar(manager, mine, linked)
            recorded = {
                snapshot.get("title", "")
                for c in conflicts
                if c.connection_id == manager.connection_id
                for snapshot in (c.winner_snapshot, c.loser_snapshot)
            }
            lost = self.ledger.lost(manager.index, recorded)
            assert not lost, ("changes lost without a conflict record", lost)
            back = self.ledger.resurrected(manager.index, [a["title"] for a in mine])
            assert not back, ("deleted appointments came back", back)

    def _drain(self) -> None:
        """Passes of both connections until a round of them moves nothing."""
        for _ in range(8):
            moved = False
            for manager in self.managers:
                report = self._pass(manager.index)
                assert report is not None
                if report.outcome in ("paused", "skipped:paused_deletions"):
                    # The guard held deletions back, as it should; a person confirms them.
                    self.confirm_deletions(manager.index)
                    moved = True
                    continue
                assert report.outcome == "ok", report
                moved = moved or bool(report.counts.get("in") or report.counts.get("out"))
            if not moved:
                return

    def _check_calendar(
        self, manager: Manager, appointments: list[dict[str, Any]], links: list[Link]
    ) -> None:
        lo, hi = WINDOW
        host = [o for a in appointments for o in host_occurrences(a, lo, hi)]
        host += self._court_titles(manager.index)
        remote = self.run(remote_occurrences(manager.remote, manager.adapter, lo, hi))
        assert sorted(remote) == sorted(host), (manager.index, sorted(remote), sorted(host))
        items = manager.remote.items()
        assert len(items) == len({i.id for i in items}), "an event is listed twice"
        live = [link for link in links if link.tombstoned_at is None]
        # Every event linked once (Graph ids differ between the adapter's immutable ids and
        # the emulator's listing, so counts are compared, not ids).
        assert len(live) == len(items), (len(live), items)
        assert len({link.remote_id for link in live}) == len(live)
        assert len({(link.entry_kind, link.entry_id) for link in live}) == len(live)

    async def _rows(self, table: Any) -> list[Any]:
        async with self.app.state.sessionmaker() as session:
            return list((await session.scalars(select(table))).all())


def _run_machine(provider: str, edits: str) -> None:
    class Machine(SyncMachine):
        provider_name = provider
        count_edits = edits == "counts"
        occurrence_edits = edits == "occurrences"

        @initialize()
        def start(self) -> None:
            """Nothing more to seed: two empty calendars, two cases with a court date each."""

        def teardown(self) -> None:
            try:
                self.drain_and_check()
            finally:
                super().teardown()

    examples = int(os.environ.get("CASECAL_STATE_MACHINE_EXAMPLES", "10"))
    steps = int(os.environ.get("CASECAL_STATE_MACHINE_STEPS", "40"))
    Machine.TestCase.settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None
    )
    Machine.TestCase().runTest()


@pytest.mark.parametrize("edits", ["counts", "occurrences"])
@pytest.mark.parametrize("provider", ["google", "microsoft", "caldav"])
def test_random_edits_faults_and_crashes_converge(provider: str, edits: str) -> None:
    if provider == "caldav" and edits == "occurrences":
        pytest.skip(
            "CalDAV keeps a series' changed occurrences inside its one resource, and the "
            "adapter reports them with the series, not as items of their own as Google and "
            "Graph do: an occurrence changed on both sides is merged as a whole series there, "
            "and this machine found one side's occurrence change lost (docs/design/"
            "providers.md, CalDAV, open work)"
        )
    _run_machine(provider, edits)
