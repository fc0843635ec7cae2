"""Behaviour that differs by provider and so sits outside the shared contract: Google
tombstones and exception instances, Graph occurrences and their series tag, Google's
deleted-id rule and its 403 usageLimits throttling."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from contract_harness import (
    BASE,
    CLIENT_ID,
    GOOGLE_SCOPES,
    GoogleHarness,
    MicrosoftHarness,
    Receiver,
    RecordingTransport,
    make_event,
)

from casecal.domain.event import CanonicalEvent
from casecal.domain.recurrence import Recurrence
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.providers import (
    AuthExpired,
    ChangePage,
    ConsentRequired,
    CreateOp,
    Gone,
    PreconditionFailed,
    RateLimited,
    RemoteEvent,
    UpdateOp,
    WriteResult,
)
from casecal.providers.google.json import google_instance_id

START = datetime(2026, 12, 7, 15, tzinfo=UTC)


def series(title: str = "Weekly check-in") -> CanonicalEvent:
    return CanonicalEvent(
        title=title,
        start=START,
        end=START + timedelta(hours=1),
        tz="America/Chicago",
        recurrence=Recurrence(rrules=("FREQ=DAILY;COUNT=3",)),
    )


def events_of(pages: list[ChangePage]) -> list[RemoteEvent]:
    return [e for page in pages for e in page.events]


@pytest.fixture
async def google() -> AsyncIterator[GoogleHarness]:
    emulator = GoogleEmulator(seed=5)
    transport = RecordingTransport(httpx.ASGITransport(app=emulator.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield GoogleHarness(client, Receiver(), transport.sent, emulator)


@pytest.fixture
async def microsoft() -> AsyncIterator[MicrosoftHarness]:
    emulator = MicrosoftEmulator(seed=5)
    transport = RecordingTransport(httpx.ASGITransport(app=emulator.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield MicrosoftHarness(client, Receiver(), transport.sent, emulator)


async def test_google_cancelled_occurrence_and_exception_name_their_series(
    google: GoogleHarness,
) -> None:
    p, cal = google.provider, google.calendar_id
    tag = google.tag()
    master = await p.create_event(cal, series(), tag)
    full = [page async for page in p.changes(cal, None, google.window)]
    second, third = START + timedelta(days=1), START + timedelta(days=2)
    google.emulator.client_delete(cal, google_instance_id(master.id, second))
    google.emulator.client_patch(cal, google_instance_id(master.id, third), {"summary": "Moved"})

    pages = [page async for page in p.changes(cal, full[-1].cursor, google.window)]
    by_slot = {e.original_start: e for e in events_of(pages) if e.series_id == master.id}
    assert set(by_slot) == {second, third}
    assert by_slot[second].cancelled, "a cancelled occurrence is a tombstone of the series"
    assert by_slot[second].event is None
    exception = by_slot[third]
    assert exception.event is not None
    assert exception.event.title == "Moved"
    assert master.id not in {i for page in pages for i in page.removed}


async def test_google_foreign_event_has_no_tag(google: GoogleHarness) -> None:
    body = {"summary": "Dentist", "start": {"date": "2026-12-03"}, "end": {"date": "2026-12-04"}}
    google.emulator.client_insert(google.calendar_id, body)
    pages = [page async for page in google.provider.changes(google.calendar_id, None, None)]
    [remote] = events_of(pages)
    assert remote.tag is None
    assert remote.event is not None
    assert remote.event.all_day
    assert remote.event.start == datetime(2026, 12, 3).date()


async def test_google_create_after_a_remote_delete_restores_the_same_event(
    google: GoogleHarness,
) -> None:
    """Google never frees a deleted id, so restoring a deleted court date reuses it."""
    p, cal = google.provider, google.calendar_id
    tag = google.tag()
    created = await p.create_event(cal, make_event(), tag)
    await p.delete_event(cal, created.id, etag=None)
    with pytest.raises(Gone):
        await p.get_event(cal, created.id)
    restored = await p.create_event(cal, make_event("Court: restored"), tag)
    assert restored.id == created.id
    assert restored.reused
    remote = await p.get_event(cal, created.id)
    assert remote.event is not None
    assert remote.event.title == "Court: restored"
    assert google.stored_titles() == ["Court: restored"]


async def test_google_usage_limit_403_backs_off_then_raises_rate_limited(
    google: GoogleHarness,
) -> None:
    google.emulator.set_rate_budget(google.email, 1, window=60.0)
    await google.provider.list_calendars()
    with pytest.raises(RateLimited) as caught:
        await google.provider.list_calendars()
    assert caught.value.reason == "userRateLimitExceeded"
    assert len(google.sleep.waits) == 4
    assert google.sleep.waits == sorted(google.sleep.waits), "exponential backoff"


async def test_graph_occurrences_carry_the_series_tag_read_once_per_master(
    microsoft: MicrosoftHarness,
) -> None:
    p, cal = microsoft.provider, microsoft.calendar_id
    tag = microsoft.tag()
    master = await p.create_event(cal, series(), tag)
    microsoft.sent.clear()
    pages = [page async for page in p.changes(cal, None, microsoft.window)]
    occurrences = [e for e in events_of(pages) if e.series_id == master.id]
    assert len(occurrences) == 3
    assert all(e.tag == tag for e in occurrences)
    assert sorted(e.original_start for e in occurrences) == [  # type: ignore[type-var]
        START + timedelta(days=n) for n in range(3)
    ]
    expanded = [r for r in microsoft.sent if "$expand" in r.url.params]
    assert len(expanded) == 1, "one tag read for the whole series"


async def test_graph_create_is_deduplicated_by_transaction_id(
    microsoft: MicrosoftHarness,
) -> None:
    tag = microsoft.tag()
    first = await microsoft.provider.create_event(microsoft.calendar_id, make_event(), tag)
    second = await microsoft.provider.create_event(microsoft.calendar_id, make_event(), tag)
    assert second.id == first.id
    posts = [r for r in microsoft.sent if r.method == "POST" and r.url.path.endswith("/events")]
    ids = {r.content for r in posts}
    assert len(posts) == 2
    assert len(ids) == 1, "both attempts sent the same body, transactionId included"
    other = microsoft.tag()
    third = await microsoft.provider.create_event(microsoft.calendar_id, make_event(), other)
    assert third.id != first.id, "another host entry is another event"


@pytest.mark.parametrize(("reason", "code"), [("expired", "70008"), ("inactive", "700082")])
async def test_graph_dead_refresh_token_is_auth_expired(
    microsoft: MicrosoftHarness, reason: str, code: str
) -> None:
    microsoft.emulator.expire_refresh_tokens(microsoft.upn, reason)
    microsoft.expire_access_token()
    with pytest.raises(AuthExpired) as caught:
        await microsoft.provider.list_calendars()
    assert caught.value.reason == "invalid_grant"
    assert f"AADSTS{code}" in str(caught.value)


async def test_google_testing_mode_refresh_token_dies_after_seven_days(
    google: GoogleHarness,
) -> None:
    google.emulator.oauth.clients[CLIENT_ID].testing = True
    answer = google.emulator.issue_tokens(google.email, CLIENT_ID, GOOGLE_SCOPES)
    provider = google.build(answer)
    await provider.list_calendars()
    google.emulator.advance(8 * 86400)
    with pytest.raises(AuthExpired) as caught:
        await provider.list_calendars()
    assert caught.value.reason == "invalid_grant"


async def test_google_refresh_without_the_calendar_scope_is_consent_required(
    google: GoogleHarness,
) -> None:
    answer = google.emulator.issue_tokens(google.email, CLIENT_ID, ["openid", "email"])
    provider = google.build({**answer, "access_token": None})
    with pytest.raises(ConsentRequired) as caught:
        await provider.list_calendars()
    assert caught.value.reason == "scope_not_granted"
    assert "calendar.events" in str(caught.value)


async def test_google_api_call_without_the_calendar_scope_is_consent_required(
    google: GoogleHarness,
) -> None:
    answer = google.emulator.issue_tokens(google.email, CLIENT_ID, ["openid", "email"])
    provider = google.build(answer)
    with pytest.raises(ConsentRequired) as caught:
        await provider.list_calendars()
    assert caught.value.reason == "insufficientPermissions"
    assert caught.value.status == 403


async def test_graph_batch_part_failing_for_good_leaves_the_others_done(
    microsoft: MicrosoftHarness,
) -> None:
    p, cal = microsoft.provider, microsoft.calendar_id
    tag = microsoft.tag()
    first = await p.create_event(cal, make_event(), tag)
    microsoft.sent.clear()
    results = await p.write_batch(
        cal,
        [
            UpdateOp(first.id, make_event("Stale"), tag, 'W/"stale"'),
            CreateOp(make_event("After the failure"), microsoft.tag()),
        ],
    )
    assert isinstance(results[0], PreconditionFailed)
    assert isinstance(results[1], WriteResult)
    assert sorted(microsoft.stored_titles()) == ["After the failure", "Consultation"]
    batch = next(r for r in microsoft.sent if r.url.path.endswith("/$batch"))
    parts = json.loads(batch.content)["requests"]
    assert all("dependsOn" not in part for part in parts), "parts are independent"
    singles = [r for r in microsoft.sent if r.method == "POST" and r.url.path.endswith("/events")]
    assert singles == [], "the create succeeded inside the batch, not re-run on its own"
