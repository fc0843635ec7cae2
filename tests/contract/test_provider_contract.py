"""The provider contract: one suite, run unchanged against the Google and the Microsoft
adapter on their emulators. Everything the sync engine relies on is asserted here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from contract_harness import Harness, make_event

from casecal.emulators.faults import Fault
from casecal.providers import (
    AuthExpired,
    ChangePage,
    ConsentRequired,
    CreateOp,
    CursorExpired,
    DeleteOp,
    NotFound,
    PreconditionFailed,
    Provider,
    RateLimited,
    RemoteEvent,
    SyncWindow,
    UpdateOp,
    WriteResult,
)


async def one_round(
    provider: Provider, calendar_id: str, cursor: str | None, window: SyncWindow
) -> list[ChangePage]:
    return [page async for page in provider.changes(calendar_id, cursor, window)]


def seen(pages: list[ChangePage]) -> dict[str, RemoteEvent]:
    return {e.id: e for page in pages for e in page.events}


def removed(pages: list[ChangePage]) -> set[str]:
    return {i for page in pages for i in page.removed}


async def test_identity_and_writable_calendars(harness: Harness) -> None:
    me = await harness.provider.identity()
    assert me.provider == harness.name
    assert me.email == "maria@firm.test"
    assert me.subject
    calendars = await harness.provider.list_calendars()
    primary = [c for c in calendars if c.primary]
    assert [c.id for c in primary] == [harness.calendar_id]
    assert all(c.writable for c in calendars)


async def test_create_then_read_round_trips_the_event_and_the_tag(harness: Harness) -> None:
    tag = harness.tag()
    event = make_event()
    created = await harness.provider.create_event(harness.calendar_id, event, tag)
    assert created.etag
    assert not created.reused
    remote = await harness.provider.get_event(harness.calendar_id, created.id)
    assert remote.tag == tag
    assert remote.etag == created.etag
    assert remote.event is not None
    assert remote.event.fingerprint() == event.fingerprint()
    assert harness.stored_titles() == ["Consultation"]


async def test_create_retried_after_a_lost_response_makes_exactly_one_event(
    harness: Harness,
) -> None:
    fault = harness.arm(Fault(kind="drop", method="POST", path=harness.create_path, times=1))
    tag = harness.tag()
    created = await harness.provider.create_event(harness.calendar_id, make_event(), tag)
    assert fault.fired == 1, "the first response was lost"
    assert len(harness.sleep.waits) == 1, "the layer backed off once and retried"
    assert harness.stored_titles() == ["Consultation"]
    again = await harness.provider.create_event(harness.calendar_id, make_event(), tag)
    assert again.id == created.id
    assert harness.stored_titles() == ["Consultation"], "a second create is still one event"


async def test_update_with_a_stale_etag_is_precondition_failed(harness: Harness) -> None:
    tag = harness.tag()
    first = await harness.provider.create_event(harness.calendar_id, make_event(), tag)
    second = await harness.provider.update_event(
        harness.calendar_id, first.id, make_event("Moved"), tag, etag=first.etag
    )
    assert second.etag != first.etag
    with pytest.raises(PreconditionFailed):
        await harness.provider.update_event(
            harness.calendar_id, first.id, make_event("Stale"), tag, etag=first.etag
        )
    assert harness.stored_titles() == ["Moved"]
    assert harness.sleep.waits == [], "412 is final, never retried"


async def test_delete_twice_second_is_not_found(harness: Harness) -> None:
    created = await harness.provider.create_event(harness.calendar_id, make_event(), harness.tag())
    await harness.provider.delete_event(harness.calendar_id, created.id, etag=created.etag)
    with pytest.raises(NotFound):
        await harness.provider.delete_event(harness.calendar_id, created.id, etag=None)
    with pytest.raises(NotFound):
        await harness.provider.get_event(harness.calendar_id, created.id)
    assert harness.stored_titles() == []


async def test_delete_with_a_stale_etag_is_precondition_failed(harness: Harness) -> None:
    tag = harness.tag()
    first = await harness.provider.create_event(harness.calendar_id, make_event(), tag)
    await harness.provider.update_event(
        harness.calendar_id, first.id, make_event("Moved"), tag, etag=first.etag
    )
    with pytest.raises(PreconditionFailed):
        await harness.provider.delete_event(harness.calendar_id, first.id, etag=first.etag)
    assert harness.stored_titles() == ["Moved"]


async def test_incremental_rounds_see_create_update_and_delete(harness: Harness) -> None:
    p, cal, window = harness.provider, harness.calendar_id, harness.window
    full = await one_round(p, cal, None, window)
    assert all(page.full for page in full)
    cursor = full[-1].cursor
    assert cursor is not None

    tag = harness.tag()
    created = await p.create_event(cal, make_event(), tag)
    pages = await one_round(p, cal, cursor, window)
    assert not any(page.full for page in pages)
    found = seen(pages)
    assert created.id in found
    assert found[created.id].tag == tag
    assert found[created.id].event is not None
    cursor = pages[-1].cursor
    assert cursor is not None

    updated = await p.update_event(cal, created.id, make_event("Moved"), tag, etag=created.etag)
    pages = await one_round(p, cal, cursor, window)
    change = seen(pages)[created.id]
    assert change.event is not None
    assert change.event.title == "Moved"
    assert change.etag == updated.etag
    cursor = pages[-1].cursor
    assert cursor is not None

    await p.delete_event(cal, created.id, etag=updated.etag)
    pages = await one_round(p, cal, cursor, window)
    assert created.id in removed(pages)
    assert created.id not in seen(pages)
    assert pages[-1].cursor is not None


async def test_full_round_streams_pages_and_only_the_last_has_the_cursor(
    harness: Harness,
) -> None:
    for day in range(1, 6):
        await harness.provider.create_event(
            harness.calendar_id, make_event(f"Hearing {day}", day=day), harness.tag()
        )
    provider = harness.paged(2)
    pages = await one_round(provider, harness.calendar_id, None, harness.window)
    assert len(pages) >= 3
    assert [page.cursor is not None for page in pages] == [False] * (len(pages) - 1) + [True]
    titles = {r.event.title for r in seen(pages).values() if r.event is not None}
    assert titles == {f"Hearing {day}" for day in range(1, 6)}


async def test_expired_cursor_is_cursor_expired(harness: Harness) -> None:
    full = await one_round(harness.provider, harness.calendar_id, None, harness.window)
    cursor = full[-1].cursor
    harness.expire_cursors()
    with pytest.raises(CursorExpired):
        await one_round(harness.provider, harness.calendar_id, cursor, harness.window)
    assert harness.sleep.waits == [], "an expired cursor is not retried"


async def test_429_waits_exactly_the_retry_after_then_succeeds(harness: Harness) -> None:
    fault = harness.arm(Fault(kind="throttle", method="GET", retry_after=7, times=2))
    calendars = await harness.provider.list_calendars()
    assert calendars
    assert fault.fired == 2
    assert harness.sleep.waits == [7.0, 7.0]


async def test_throttling_beyond_the_budget_is_rate_limited(harness: Harness) -> None:
    harness.arm(Fault(kind="throttle", method="GET", retry_after=600))
    with pytest.raises(RateLimited) as caught:
        await harness.provider.list_calendars()
    assert caught.value.retry_after == 600.0
    assert harness.sleep.waits == [], "a wait above the cap is left to the scheduler"


async def test_revoked_refresh_token_is_auth_expired(harness: Harness) -> None:
    harness.revoke_grant()
    with pytest.raises(AuthExpired):
        await harness.provider.list_calendars()


async def test_missing_consent_is_consent_required(harness: Harness) -> None:
    provider = harness.provider_without_consent()
    with pytest.raises(ConsentRequired):
        await provider.list_calendars()


async def test_batch_writes_create_update_and_delete(harness: Harness) -> None:
    p, cal = harness.provider, harness.calendar_id
    tags = [harness.tag() for _ in range(3)]
    ops = [CreateOp(make_event(f"Interview {i}", day=i + 1), t) for i, t in enumerate(tags)]
    results = await p.write_batch(cal, ops)
    assert all(isinstance(r, WriteResult) for r in results)
    assert sorted(harness.stored_titles()) == ["Interview 0", "Interview 1", "Interview 2"]
    made = [r for r in results if isinstance(r, WriteResult)]

    again = await p.write_batch(cal, ops[:1])
    assert isinstance(again[0], WriteResult)
    assert again[0].id == made[0].id, "a repeated create in a batch is still one event"

    second = await p.write_batch(
        cal,
        [
            UpdateOp(made[0].id, make_event("Interview moved"), tags[0], made[0].etag),
            DeleteOp(made[1].id, made[1].etag),
            DeleteOp(made[2].id, '"stale-etag"' if harness.name == "google" else 'W/"stale"'),
        ],
    )
    assert isinstance(second[0], WriteResult)
    assert isinstance(second[1], WriteResult)
    assert isinstance(second[2], PreconditionFailed)
    assert sorted(harness.stored_titles()) == ["Interview 2", "Interview moved"]


async def test_a_cancelled_event_is_never_read_as_live(harness: Harness) -> None:
    created = await harness.provider.create_event(harness.calendar_id, make_event(), harness.tag())
    await harness.provider.delete_event(harness.calendar_id, created.id, etag=None)
    pages = await one_round(harness.provider, harness.calendar_id, None, harness.window)
    live = {i for i, r in seen(pages).items() if r.event is not None}
    assert created.id not in live


def test_capabilities_are_declared(harness: Harness) -> None:
    assert isinstance(harness.provider, Provider)
    caps = harness.provider.capabilities
    assert caps.name == harness.name
    assert caps.max_batch_size == {"google": 50, "microsoft": 20, "caldav": 50}[harness.name]
    assert caps.max_concurrency >= 1


async def test_expired_access_token_is_refreshed_once_and_the_call_succeeds(
    harness: Harness,
) -> None:
    harness.expire_access_token()
    calendars = await harness.provider.list_calendars()
    assert [c.id for c in calendars if c.primary] == [harness.calendar_id]
    assert harness.token_source is not None
    assert harness.token_source.refresh_count == 1
    assert harness.sleep.waits == [], "a refresh is not a backoff"


async def test_server_errors_on_reads_are_retried_with_backoff(harness: Harness) -> None:
    fault = harness.arm(Fault(kind="error", status=503, method="GET", times=2))
    await harness.provider.list_calendars()
    assert fault.fired == 2
    assert len(harness.sleep.waits) == 2
    assert harness.sleep.waits[0] < harness.sleep.waits[1], "the backoff grows"


async def test_push_channel_start_notify_renew_stop(harness: Harness) -> None:
    harness.requires("push")
    p, cal = harness.provider, harness.calendar_id
    expires = datetime.now(UTC) + timedelta(days=1)
    channel = await p.start_push(cal, "https://casecal.test/hooks/push", "s3cret-42", expires)
    assert channel.id
    assert channel.calendar_id == cal
    assert abs((channel.expires_at - expires).total_seconds()) < 60

    await p.create_event(cal, make_event(), harness.tag())
    await harness.emulator.flush_notifications()
    assert harness.receiver.carried("s3cret-42"), "a change notifies with our secret"

    renewed = await p.renew_push(channel, expires + timedelta(days=1))
    assert renewed.expires_at > channel.expires_at
    assert renewed.secret == "s3cret-42"
    await p.stop_push(renewed)

    harness.receiver.notifications.clear()
    await p.create_event(cal, make_event("After stop"), harness.tag())
    await harness.emulator.flush_notifications()
    assert not harness.receiver.carried("s3cret-42"), "a stopped channel stays silent"


async def test_every_request_follows_the_providers_wire_rules(harness: Harness) -> None:
    p, cal = harness.provider, harness.calendar_id
    tag = harness.tag()
    full = await one_round(p, cal, None, harness.window)
    created = await p.create_event(cal, make_event(), tag)
    updated = await p.update_event(cal, created.id, make_event("Moved"), tag, etag=created.etag)
    await one_round(p, cal, full[-1].cursor, harness.window)
    await p.write_batch(cal, [CreateOp(make_event("Batch"), harness.tag())])
    await p.delete_event(cal, created.id, etag=updated.etag)
    assert len(harness.sent) >= 6
    assert harness.wire_problems() == []


async def test_find_event_by_tag_after_a_lost_create(harness: Harness) -> None:
    p, cal = harness.provider, harness.calendar_id
    tag = harness.tag()
    assert await p.find_event(cal, tag) is None
    created = await p.create_event(cal, make_event(), tag)
    found = await p.find_event(cal, tag)
    assert found is not None
    assert (found.id, found.tag, found.etag) == (created.id, tag, created.etag)
    assert await p.find_event(cal, harness.tag()) is None, "another entry's tag finds nothing"
    await p.delete_event(cal, created.id, etag=None)
    assert await p.find_event(cal, tag) is None
