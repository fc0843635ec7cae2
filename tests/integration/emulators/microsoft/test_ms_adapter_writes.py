"""The Graph adapter's writes against the emulator: batch parts are independent (one that fails
for good leaves the others done in the same envelope; only parts refused for now are sent
again), Graph's four-at-a-time dispatch of an unordered batch keeps within the mailbox's
concurrency, and a series' occurrences are written with the change key ``/instances`` gave."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ms_support import CLIENT_ID, World

from casecal.domain.entries import EntryKind
from casecal.domain.event import CanonicalEvent, Override
from casecal.domain.recurrence import Recurrence
from casecal.domain.tags import Tag
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.providers import CreateOp, PreconditionFailed, UpdateOp, WriteResult
from casecal.providers.msgraph import MicrosoftGraphProvider

BASE = "http://testserver"
START = datetime(2026, 12, 7, 15, tzinfo=UTC)


class Tokens:
    def __init__(self, token: str) -> None:
        self.token = token

    async def access_token(self) -> str:
        return self.token

    async def refresh(self, failed: str | None = None) -> str:
        return self.token


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def adapter(
    emu: MicrosoftEmulator, tokens: dict[str, Any], sent: list[httpx.Request], sleep: Waits
) -> MicrosoftGraphProvider:
    inner = httpx.ASGITransport(app=emu.app)

    async def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return await inner.handle_async_request(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record), base_url=BASE)
    return MicrosoftGraphProvider(
        client, Tokens(tokens["access_token"]), graph_base_url=BASE, sleep=sleep
    )


def event(title: str, day: int = 0, **extra: Any) -> CanonicalEvent:
    start = START + timedelta(days=day)
    return CanonicalEvent(
        title=title, start=start, end=start + timedelta(hours=1), tz="America/New_York", **extra
    )


def tag() -> Tag:
    return Tag(entry_id=uuid.uuid4(), kind=EntryKind.APPOINTMENT, connection_id=uuid.uuid4())


def batches(sent: list[httpx.Request]) -> list[list[dict[str, Any]]]:
    return [json.loads(r.content)["requests"] for r in sent if r.url.path.endswith("/$batch")]


def calendar(emu: MicrosoftEmulator, world: World) -> str:
    return emu.state.users[world.ann].default_calendar_id


async def test_one_failing_part_leaves_the_others_done_in_one_batch_request(
    emu: MicrosoftEmulator, world: World, tokens: dict[str, Any]
) -> None:
    sent: list[httpx.Request] = []
    graph = adapter(emu, tokens, sent, Waits())
    cal = calendar(emu, world)
    first = await graph.create_event(cal, event("Consultation"), tag())
    sent.clear()
    ops = [
        UpdateOp(first.id, event("Stale"), tag(), 'W/"stale"'),
        *(CreateOp(event(f"Hearing {n}", n), tag()) for n in range(1, 6)),
    ]
    results = await graph.write_batch(cal, ops)
    assert isinstance(results[0], PreconditionFailed)
    assert all(isinstance(r, WriteResult) for r in results[1:])
    assert len(sent) == 1, [f"{r.method} {r.url.path}" for r in sent]
    assert all("dependsOn" not in part for part in batches(sent)[0]), "parts are independent"
    titles = sorted(e["subject"] for e in emu.events(world.ann))
    assert titles == ["Consultation", *(f"Hearing {n}" for n in range(1, 6))]


async def test_a_batch_of_twenty_keeps_within_the_mailbox_concurrency_in_one_request(
    emu: MicrosoftEmulator, world: World, tokens: dict[str, Any]
) -> None:
    emu.set_throttling(world.ann)
    sent: list[httpx.Request] = []
    graph = adapter(emu, tokens, sent, Waits())
    ops = [CreateOp(event(f"Hearing {n}", n), tag()) for n in range(20)]
    results = await graph.write_batch(calendar(emu, world), ops)
    assert all(isinstance(r, WriteResult) for r in results)
    assert len(sent) == 1
    assert emu.throttle.peak[(CLIENT_ID, world.ann)] == 4
    assert len(emu.events(world.ann)) == 20


async def test_only_the_parts_refused_for_now_are_sent_again_after_their_retry_after(
    emu: MicrosoftEmulator, world: World, tokens: dict[str, Any]
) -> None:
    emu.set_throttling(world.ann)
    emu.throttle.in_flight[(CLIENT_ID, world.ann)] = 1  # another request holds one slot
    sent: list[httpx.Request] = []
    waits = Waits()
    graph = adapter(emu, tokens, sent, waits)
    ops = [CreateOp(event(f"Hearing {n}", n), tag()) for n in range(20)]
    results = await graph.write_batch(calendar(emu, world), ops)
    assert all(isinstance(r, WriteResult) for r in results)
    sizes = [len(parts) for parts in batches(sent)]
    assert sizes[:2] == [20, 5], "each wave of four had one part refused; only those went again"
    assert len(sent) == len(sizes), "no part was written on its own"
    assert waits.seconds[:1] == [1.0], "the parts' Retry-After was honoured"
    assert len(emu.events(world.ann)) == 20


def series(day: int = 0) -> CanonicalEvent:
    """A weekly series of five with its second occurrence cancelled and its third moved."""
    rec = Recurrence(rrules=("FREQ=WEEKLY;COUNT=5",), exdates=(START + timedelta(days=7),))
    third = START + timedelta(days=14)
    later = third + timedelta(hours=2)
    moved = CanonicalEvent(
        title="Moved", start=later, end=later + timedelta(hours=1), tz="America/New_York"
    )
    return event("Weekly", day, recurrence=rec, overrides=(Override(third, moved),))


async def test_occurrence_deletes_and_patches_carry_the_change_key_from_instances(
    emu: MicrosoftEmulator, world: World, tokens: dict[str, Any]
) -> None:
    emu.state.require_if_match = True
    sent: list[httpx.Request] = []
    graph = adapter(emu, tokens, sent, Waits())
    await graph.create_event(calendar(emu, world), series(), tag())
    occurrence_writes = [
        r for r in sent if r.method in ("DELETE", "PATCH") and r.url.path.startswith("/v1.0/me/")
    ]
    assert [r.method for r in occurrence_writes] == ["DELETE", "PATCH"]
    assert all(r.headers.get("if-match", "").startswith('W/"') for r in occurrence_writes)
