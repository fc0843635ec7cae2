"""CaseCal never makes a provider mail an invitation unless the firm opts in (issue 10 item 3):
every write of an event with attendees, one by one, in a batch, and of a series with a
cancelled occurrence, leaves the emulator's record of sent meeting mail empty, and the event
reads back with the same attendees and fingerprint (no echo)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from contract_harness import BASE, Harness, MicrosoftHarness, make_event

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent
from casecal.domain.recurrence import Recurrence
from casecal.providers import CreateOp, DeleteOp, UpdateOp
from casecal.providers.msgraph import MicrosoftGraphProvider

PEOPLE = (Attendee("maria@client.example", "Maria Lopez"), Attendee("ana@example.com"))


def consultation(title: str = "Client consultation", day: int = 1) -> CanonicalEvent:
    return replace(make_event(title, day=day), attendees=PEOPLE)


async def test_writes_with_attendees_mail_nobody(harness: Harness) -> None:
    provider, cal = harness.provider, harness.calendar_id
    tag = harness.tag()
    event = consultation()
    made = await provider.create_event(cal, event, tag)
    back = await provider.get_event(cal, made.id)
    assert back.event is not None
    assert back.event.fingerprint() == event.fingerprint()
    assert [a.email for a in back.event.attendees] == [a.email for a in event.attendees]
    hours = timedelta(hours=2)
    later = replace(event, start=event.start + hours, end=event.end + hours, attendees=PEOPLE[:1])
    written = await provider.update_event(cal, made.id, later, tag, etag=made.etag)
    assert written.remote is not None
    assert written.remote.event is not None
    assert written.remote.event.fingerprint() == later.fingerprint()
    await provider.delete_event(cal, made.id, etag=None)
    assert harness.emulator.sent_messages() == []


async def test_batches_and_series_mail_nobody(harness: Harness) -> None:
    provider, cal = harness.provider, harness.calendar_id
    first, second = consultation("One", day=2), consultation("Two", day=3)
    tags = [harness.tag(), harness.tag()]
    results = await provider.write_batch(cal, [CreateOp(first, tags[0]), CreateOp(second, tags[1])])
    ids = [r.id for r in results]  # type: ignore[union-attr]
    moved = replace(
        first, start=first.start + timedelta(hours=1), end=first.end + timedelta(hours=1)
    )
    await provider.write_batch(
        cal, [UpdateOp(ids[0], moved, tags[0], None), DeleteOp(ids[1], None)]
    )
    weekly = replace(
        consultation("Weekly", day=7),
        recurrence=Recurrence(rrules=("FREQ=WEEKLY;COUNT=3",)),
    )
    cancelled = replace(
        weekly,
        recurrence=Recurrence(rrules=("FREQ=WEEKLY;COUNT=3",),
                              exdates=(weekly.start + timedelta(days=7),)),
    )  # fmt: skip
    series_tag = harness.tag()
    series = await provider.create_event(cal, weekly, series_tag)
    await provider.update_event(cal, series.id, cancelled, series_tag, etag=None)
    await provider.delete_event(cal, series.id, etag=None)
    assert harness.emulator.sent_messages() == []


async def test_a_firm_that_opts_in_has_graph_invite_that_kind(harness: Harness) -> None:
    if not isinstance(harness, MicrosoftHarness):
        assert harness.emulator.sent_messages() == []  # Google: always sendUpdates=none
        return
    assert harness.token_source is not None
    inviting = MicrosoftGraphProvider(
        harness.client, harness.token_source, graph_base_url=BASE,
        invite_kinds=frozenset({EntryKind.APPOINTMENT}),
    )  # fmt: skip
    court = replace(harness.tag(), kind=EntryKind.COURT_DATE)
    await inviting.create_event(harness.calendar_id, consultation("Hearing"), court)
    assert harness.emulator.sent_messages() == []
    await inviting.create_event(harness.calendar_id, consultation(), harness.tag())
    sent = [(m.kind, m.to) for m in harness.emulator.sent_messages()]
    assert sent == [("invitation", "ana@example.com"), ("invitation", "maria@client.example")]
