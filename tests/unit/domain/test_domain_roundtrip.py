"""Hypothesis properties: canonical -> provider JSON -> canonical is the identity for every
representable event, on Google and on Graph, with times clustered around DST transitions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.entries import EntryKind
from casecal.domain.event import Attendee, CanonicalEvent, Override
from casecal.domain.recurrence import WEEKDAYS, EventTime, Recurrence
from casecal.domain.tags import Tag
from casecal.providers.google.json import from_google, to_google, to_google_override
from casecal.providers.msgraph.json import (
    format_original_start,
    from_graph,
    to_graph,
    to_graph_override,
)

ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Europe/Dublin", "UTC")


@cache
def transitions(tz: str) -> tuple[datetime, ...]:
    """UTC instants (to the hour) where ``tz`` changes its offset, 2024-2026."""
    zone = ZoneInfo(tz)
    out = []
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year < 2027:
        moment += timedelta(hours=1)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            out.append(moment)
        previous = offset
    return tuple(out) or (datetime(2025, 6, 1, tzinfo=UTC),)


@st.composite
def instants(draw: st.DrawFn, tz: str) -> datetime:
    """An instant within two days of a DST change of ``tz``, on a 15-minute grid."""
    anchor = draw(st.sampled_from(transitions(tz)))
    shift = timedelta(minutes=15 * draw(st.integers(-192, 192)))
    return (anchor + shift).astimezone(ZoneInfo(tz))


texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"), max_size=40
)
multiline = st.lists(texts, max_size=3).map("\n".join)
attendees = st.builds(
    Attendee,
    email=st.sampled_from(["ana@example.com", "bo@example.org", "cy@example.net"]),
    name=st.sampled_from(["", "Ana Diaz", "Bo Ek"]),
    response=st.sampled_from(["needsAction", "accepted", "declined", "tentative"]),
)
tags = st.builds(
    Tag, entry_id=st.uuids(), kind=st.sampled_from(list(EntryKind)), connection_id=st.uuids()
)


def _rule_for(draw: st.DrawFn, start: EventTime) -> str:
    """A rule Graph can express and whose first occurrence is ``start``."""
    day = WEEKDAYS[start.weekday()]
    nth = (start.day - 1) // 7 + 1
    last = (start + timedelta(days=7)).month != start.month
    interval = draw(st.integers(1, 3))
    choices = [f"FREQ=DAILY;INTERVAL={interval}"]
    extra = draw(st.sets(st.sampled_from(WEEKDAYS), max_size=3))
    days = ",".join(d for d in WEEKDAYS if d in extra | {day})
    wkst = draw(st.sampled_from(["MO", "SU"]))
    choices.append(f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={days};WKST={wkst}")
    if start.day <= 28:
        choices += [f"FREQ=MONTHLY;INTERVAL={interval}", "FREQ=YEARLY"]
    if nth <= 4:
        choices.append(f"FREQ=MONTHLY;BYDAY={nth}{day}")
    if last:
        choices.append(f"FREQ=YEARLY;BYMONTH={start.month};BYDAY=-1{day}")
    rule = draw(st.sampled_from(choices))
    ending = draw(st.sampled_from(["", "count", "until"]))
    if ending == "count":
        rule += f";COUNT={draw(st.integers(1, 12))}"
    elif ending == "until":
        end_day = (start if not isinstance(start, datetime) else start.date()) + timedelta(
            days=draw(st.integers(2, 120))
        )
        rule += (
            f";UNTIL={end_day:%Y%m%d}"
            if not isinstance(start, datetime)
            else (f";UNTIL={end_day:%Y%m%d}T{draw(st.integers(0, 23)):02d}0000Z")
        )
    return rule


def _occurrences(rule: str, start: EventTime, tz: str) -> list[EventTime]:
    naive = (
        start.replace(tzinfo=None)
        if isinstance(start, datetime)
        else (datetime.combine(start, datetime.min.time()))
    )
    bare = ";".join(p for p in rule.split(";") if not p.startswith("UNTIL"))
    out: list[EventTime] = []
    for when in rrulestr(bare, dtstart=naive):
        out.append(
            when.replace(tzinfo=ZoneInfo(tz)) if isinstance(start, datetime) else when.date()
        )
        if len(out) >= 6:
            break
    return out


@st.composite
def single_events(draw: st.DrawFn, tz: str, all_day: bool, max_reminders: int) -> CanonicalEvent:
    if all_day:
        start: EventTime = draw(st.dates(date(2024, 1, 1), date(2026, 12, 31)))
        end: EventTime = start + timedelta(days=draw(st.integers(1, 4)))
    else:
        start = draw(instants(tz))
        end = start + timedelta(minutes=15 * draw(st.integers(0, 40)))
    return CanonicalEvent(
        title=draw(texts),
        description=draw(multiline),
        location=draw(texts),
        start=start,
        end=end,
        tz=tz,
        reminders=tuple(draw(st.lists(st.integers(0, 40320), max_size=max_reminders))),
        attendees=tuple(draw(st.lists(attendees, max_size=3))),
        private=draw(st.booleans()),
        busy=draw(st.booleans()),
        categories=tuple(draw(st.sets(st.sampled_from(["CaseCal", "Court Date", "Blue"])))),
    )


@st.composite
def events(draw: st.DrawFn, max_reminders: int) -> CanonicalEvent:
    tz = draw(st.sampled_from(ZONES))
    all_day = draw(st.booleans())
    base = draw(single_events(tz, all_day, max_reminders))
    tag = draw(st.none() | tags)
    if not draw(st.booleans()):
        return base.with_tag(tag)
    rule = _rule_for(draw, base.start)
    slots = _occurrences(rule, base.start, tz)
    cancelled = draw(st.sets(st.sampled_from(slots), max_size=2)) if slots else set()
    overrides = []
    for slot in draw(st.sets(st.sampled_from(slots), max_size=2)) if slots else set():
        if slot in cancelled:
            continue
        moved = draw(single_events(tz, all_day, max_reminders))
        overrides.append(Override(slot, moved))
    recurrence = Recurrence(rrules=(rule,), exdates=tuple(cancelled))
    return CanonicalEvent(
        **{**base.__dict__, "recurrence": recurrence, "overrides": tuple(overrides), "tag": tag}
    )


def assert_identical(back: CanonicalEvent, event: CanonicalEvent) -> None:
    assert back == event
    assert back.fingerprint() == event.fingerprint()
    assert back.tag == event.tag
    assert [a.response for a in back.attendees] == [a.response for a in event.attendees]
    for got, want in ((back.start, event.start), (back.end, event.end)):
        assert type(got) is type(want)
        if isinstance(got, datetime) and isinstance(want, datetime):
            assert got.astimezone(UTC) == want.astimezone(UTC)
            assert got.utcoffset() == want.utcoffset()


def _wire(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


@given(events(max_reminders=5))
def test_google_round_trip_is_identity(event: CanonicalEvent) -> None:
    body = _wire(to_google(event, event_id="abcde12345"))
    instances = tuple(
        _wire(to_google_override(o, master_id="abcde12345", series_tz=event.tz))
        for o in event.overrides
    )
    back = from_google(body, default_tz=event.tz, instances=instances)
    assert_identical(back, event)


@given(events(max_reminders=1))
def test_graph_round_trip_is_identity(event: CanonicalEvent) -> None:
    back = _graph_round_trip(event, invite=True)
    assert_identical(back, event)


@given(events(max_reminders=1))
def test_graph_round_trip_with_attendees_in_the_body_keeps_the_fingerprint(
    event: CanonicalEvent,
) -> None:
    """The default (no invitations): attendees travel as a body line, responses do not."""
    back = _graph_round_trip(event, invite=False)
    assert back.fingerprint() == event.fingerprint()
    assert back.description == event.description
    assert [(a.email, a.name) for a in back.attendees] == [
        (a.email, a.name) for a in event.attendees
    ]


def _graph_round_trip(event: CanonicalEvent, *, invite: bool) -> CanonicalEvent:
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
    return from_graph(body, tz_hint=event.tz, exceptions=exceptions, cancelled=event.cancelled)


@given(events(max_reminders=5), tags, st.sampled_from(["none", "accepted", "declined"]))
def test_fingerprint_ignores_tag_and_responses(
    event: CanonicalEvent, tag: Tag, response: str
) -> None:
    answer = {"none": "needsAction"}.get(response, response)
    other = CanonicalEvent(
        **{
            **event.__dict__,
            "tag": tag,
            "attendees": tuple(Attendee(a.email, a.name, answer) for a in event.attendees),
        }
    )
    assert other.fingerprint() == event.fingerprint()


@given(events(max_reminders=5))
def test_fingerprint_is_stable_across_representations(event: CanonicalEvent) -> None:
    start, end = event.start, event.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    same = CanonicalEvent(
        **{
            **event.__dict__,
            "start": start,
            "end": end,
            "attendees": tuple(
                Attendee(a.email.upper(), a.name, a.response) for a in reversed(event.attendees)
            ),
            "categories": tuple(reversed(event.categories)),
            "description": event.description.replace("\n", "\r\n") + "  \n",
        }
    )
    assert same.fingerprint() == event.fingerprint()


@given(events(max_reminders=5), texts)
def test_fingerprint_changes_with_a_mapped_field(event: CanonicalEvent, title: str) -> None:
    changed = CanonicalEvent(**{**event.__dict__, "title": event.title + "x"})
    assert changed.fingerprint() != event.fingerprint()
    later = CanonicalEvent(
        **{**event.__dict__, "end": event.end + timedelta(days=1), "overrides": event.overrides}
    )
    assert later.fingerprint() != event.fingerprint()


def test_transitions_are_found_for_each_dst_zone() -> None:
    for tz in ("America/New_York", "Europe/London", "Australia/Sydney"):
        assert len(transitions(tz)) == 6, tz
