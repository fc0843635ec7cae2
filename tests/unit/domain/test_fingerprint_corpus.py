"""A seeded corpus of canonical events whose fingerprints are pinned: the fingerprints stored in
the database must not move when the event, its normalisation or the provider codecs are made
faster. Each digest is the sha256 of the corpus' fingerprints in order (one per line), taken
with the code before that work; a change here means stored fingerprints would change."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent, Override
from casecal.domain.recurrence import EventTime, Recurrence
from casecal.domain.tags import Tag
from casecal.errors import ValidationFailed
from casecal.providers.google.json import from_google, to_google, to_google_override
from casecal.providers.msgraph.json import (
    format_original_start,
    from_graph,
    to_graph,
    to_graph_override,
)

ZONES = (
    "America/New_York",
    "America/Toronto",  # shares its Windows name with New York
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Chatham",
    "UTC",
    "Etc/UTC",
)
WORDS = (
    "Hearing", "Client call", "  padded  ", "Ünïcödé ✓", "emoji 🗓️", 'quote " and \\ back',
    "tab\there", "bell\x07", "nul\x00", "line\nbreak", "crlf\r\nline", "", "日本語", "\u2028sep",
    "del\x7f", "zero-width\u200b",
)  # fmt: skip
REMINDERS = (0, 5, 10, 30, 1440, 10, 40320)
CATEGORIES = ("CaseCal", "Court Date", "Blue", "Ünï")
EMAILS = ("ana@example.com", "ANA@Example.com", " bo@example.org ", "cy@example.net")
RULES = (
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=1",
    "FREQ=DAILY;INTERVAL=2;COUNT=5",
    "FREQ=DAILY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
    "FREQ=WEEKLY;BYDAY=FR,MO;WKST=MO",
    "freq=weekly;byday=tu,th;count=6",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2",
    "FREQ=MONTHLY;BYMONTHDAY=15,1,15",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=YEARLY",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "FREQ=HOURLY;INTERVAL=6;COUNT=4",
    "RRULE:FREQ=WEEKLY;UNTIL=20270301",
    "FREQ=WEEKLY;UNTIL=20270301T120000Z",
    "FREQ=DAILY;UNTIL=20270115T090000",
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,17;UNTIL=20270201T000000Z",
)


def _start(rng: random.Random, tz: str) -> datetime:
    base = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=15 * rng.randrange(0, 40_000))
    if rng.random() < 0.1:
        base += timedelta(microseconds=rng.randrange(1, 999_999))
    if rng.random() < 0.3:
        return base  # given in UTC: the event puts it in its zone
    local = base.astimezone(ZoneInfo(tz))
    return local.replace(fold=1) if rng.random() < 0.05 else local


def _single(rng: random.Random, tz: str, all_day: bool) -> CanonicalEvent:
    start: EventTime
    end: EventTime
    if all_day:
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 700))
        end = start + timedelta(days=rng.randrange(1, 4))
    else:
        start = _start(rng, tz)
        end = start + timedelta(minutes=15 * rng.randrange(0, 40))
    return CanonicalEvent(
        title=rng.choice(WORDS) + rng.choice(WORDS),
        description="\n".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 4))),
        location=rng.choice(WORDS),
        start=start,
        end=end,
        tz=tz,
        reminders=tuple(rng.choice(REMINDERS) for _ in range(rng.randrange(4))),
        attendees=tuple(
            Attendee(
                rng.choice(EMAILS),
                rng.choice(("", "Ana Diaz ", "Bo")),
                rng.choice(("needsAction", "accepted", "declined", "tentative")),
            )
            for _ in range(rng.randrange(4))
        ),
        private=rng.random() < 0.3,
        busy=rng.random() < 0.8,
        categories=tuple(rng.choice(CATEGORIES) for _ in range(rng.randrange(3))),
        tag=_tag(rng) if rng.random() < 0.5 else None,
    )


def _tag(rng: random.Random) -> Tag:
    return Tag(
        entry_id=uuid.UUID(int=rng.getrandbits(128)),
        kind=rng.choice(list(EntryKind)),
        connection_id=uuid.UUID(int=rng.getrandbits(128)),
    )


def _slot(start: EventTime, weeks: int, as_date: bool, rng: random.Random) -> EventTime:
    moved = start + timedelta(weeks=weeks)
    if isinstance(moved, datetime):
        if as_date:
            return moved.date()
        return moved.astimezone(UTC) if rng.random() < 0.5 else moved
    return moved


def corpus(n: int = 700, seed: int = 13) -> list[CanonicalEvent]:
    """Single events, all-day events and series (rules in many spellings, EXDATEs given as
    dates or instants, RDATEs, overrides with tags), in zones with odd offsets and DST."""
    rng = random.Random(seed)
    out: list[CanonicalEvent] = []
    while len(out) < n:
        tz = rng.choice(ZONES)
        all_day = rng.random() < 0.2
        base = _single(rng, tz, all_day)
        if rng.random() < 0.55:
            out.append(base)
            continue
        rules = tuple(rng.choice(RULES) for _ in range(rng.choice((1, 1, 1, 2))))
        exrules = ("FREQ=MONTHLY;BYDAY=1MO",) if rng.random() < 0.05 else ()
        exdates = tuple(
            _slot(base.start, rng.randrange(1, 8), rng.random() < 0.2, rng)
            for _ in range(rng.randrange(3))
        )
        rdates = (
            (_slot(base.start, rng.randrange(10, 12), False, rng),) if rng.random() < 0.1 else ()
        )
        overrides = tuple(
            Override(_slot(base.start, rng.randrange(1, 8), False, rng), _single(rng, tz, all_day))
            for _ in range(rng.randrange(3))
        )
        try:
            out.append(
                replace(
                    base,
                    recurrence=Recurrence(rules, exrules, rdates, exdates),
                    overrides=overrides,
                )
            )
        except ValidationFailed:
            continue
    return out


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _wire(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


def _via_google(event: CanonicalEvent, show: Any = CanonicalEvent.fingerprint) -> str:
    try:
        body = _wire(to_google(event, event_id="abcde12345"))
        instances = tuple(
            _wire(to_google_override(o, master_id="abcde12345", series_tz=event.tz))
            for o in event.overrides
        )
        back = from_google(body, default_tz=event.tz, instances=instances)
        return str(show(back))
    except ValidationFailed as exc:
        return f"{type(exc).__name__}"


def _via_graph(event: CanonicalEvent, invite: bool, show: Any = CanonicalEvent.fingerprint) -> str:
    try:
        body = _wire(to_graph(event, invite=invite))
        exceptions = [
            _wire(
                {
                    **to_graph_override(o, invite=invite),
                    "type": "exception",
                    "originalStart": format_original_start(o.original_start, event.tz),
                }
            )
            for o in event.overrides
        ]
        back = from_graph(body, tz_hint=event.tz, exceptions=exceptions, cancelled=event.cancelled)
        return str(show(back))
    except ValidationFailed as exc:
        return f"{type(exc).__name__}"


EVENTS = corpus()

PINNED = {
    "events": "4a71079d417431c7bb9c5fb8505f366a59947faa69932a57c380cfde2bf47aa7",
    "google": "4a71079d417431c7bb9c5fb8505f366a59947faa69932a57c380cfde2bf47aa7",
    "graph-invite": "aa8acb971cce2f02248a7025d4138e3f1629d7db1b3c50b9e714f98ee8a36965",
    "graph-body-line": "aa8acb971cce2f02248a7025d4138e3f1629d7db1b3c50b9e714f98ee8a36965",
    "events-repr": "843c9b17d8c9d9c5472013e4bf317e179490c916c9468da4d55fee87d6dae67f",
    "google-repr": "334b4bea94ad6592f4063997b4a63be64188c8c3b6b15833d5f9ba0a3216a0df",
    "graph-repr": "03a1c56b958ae126b8592f2e9734be0f85db6c26209c2c19917edf33664dd1f5",
}


def test_the_corpus_is_varied() -> None:
    assert len(EVENTS) == 700
    assert sum(e.recurrence is not None for e in EVENTS) > 200
    assert sum(bool(e.overrides) for e in EVENTS) > 100
    assert sum(e.all_day for e in EVENTS) > 100


@pytest.mark.parametrize(
    ("name", "fingerprint"),
    [
        ("events", CanonicalEvent.fingerprint),
        ("google", _via_google),
        ("graph-invite", lambda e: _via_graph(e, invite=True)),
        ("graph-body-line", lambda e: _via_graph(e, invite=False)),
        ("events-repr", repr),
        ("google-repr", lambda e: _via_google(e, show=repr)),
        ("graph-repr", lambda e: _via_graph(e, invite=True, show=repr)),
    ],
)
def test_fingerprints_and_values_are_pinned(name: str, fingerprint: Any) -> None:
    assert _digest([fingerprint(e) for e in EVENTS]) == PINNED[name]


def test_a_copy_with_another_tag_is_the_event_rebuilt_with_it() -> None:
    rng = random.Random(5)
    for event in EVENTS:
        tag = _tag(rng) if rng.random() < 0.7 else None
        rebuilt = replace(event, tag=tag)
        copied = event.with_tag(tag)
        assert copied == rebuilt
        assert hash(copied) == hash(rebuilt)
        assert copied.tag == tag
        assert copied.fingerprint() == rebuilt.fingerprint() == event.fingerprint()
        assert CanonicalEvent(**event.__dict__) == event


def test_an_event_rebuilt_from_its_own_values_is_equal_and_alike() -> None:
    for event in EVENTS:
        again = CanonicalEvent(**event.__dict__)
        assert again == event
        assert again.recurrence == event.recurrence
        assert [(o.original_start, o.event) for o in again.overrides] == [
            (o.original_start, o.event) for o in event.overrides
        ]
        assert again.fingerprint() == event.fingerprint()


def test_the_fingerprint_is_the_sha256_of_the_sorted_compact_json_of_the_fields() -> None:
    from casecal.domain.event import _fields

    for event in EVENTS[:50]:
        blob = json.dumps(
            _fields(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        assert event.fingerprint() == hashlib.sha256(blob).hexdigest()


def test_normalising_a_normalised_recurrence_again_changes_nothing() -> None:
    """What lets an event made from a normalised recurrence (a copy, the row read back) keep
    it as it is."""
    for event in EVENTS:
        if event.recurrence is None:
            continue
        rec = event.recurrence
        fresh = Recurrence(rec.rrules, rec.exrules, rec.rdates, rec.exdates)
        assert fresh.normalised(event.start) == rec
        assert rec.normalised(event.start) is rec


def test_copies_and_pickles_carry_the_fields_only() -> None:
    for event in EVENTS[:40]:
        event.fingerprint()
        for other in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):  # noqa: S301
            assert other == event
            assert other.fingerprint() == event.fingerprint()
            assert other.__dict__ == event.__dict__


def test_what_orjson_refuses_is_fingerprinted_as_before() -> None:
    """Integers past 64 bits go through json; a lone surrogate fails as it always did."""
    from casecal.domain.event import _fields

    event = replace(EVENTS[0], recurrence=None, overrides=(), reminders=(2**70, 5))
    blob = json.dumps(
        _fields(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert event.fingerprint() == hashlib.sha256(blob).hexdigest()
    with pytest.raises(UnicodeEncodeError):
        replace(EVENTS[0], title="half \ud800 a pair").fingerprint()
