"""The pure logic behind the pages: each connection state offers the action that fixes it,
run counts read as one line, entries fall on the right day."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

import pytest

from casecal.store.tables import ConnectionStatus, EntryKind
from casecal.web.ui.connection_states import ACTION_PATHS, ConnectionFacts, connection_state
from casecal.web.ui.views import EntryView, agenda, counts_line, lay_out_week


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ConnectionStatus.ACTIVE, "sync"),
        (ConnectionStatus.PENDING, "choose"),
        (ConnectionStatus.NEEDS_REAUTH, "modify"),
        (ConnectionStatus.AWAITING_CONSENT, "modify"),
        (ConnectionStatus.PAUSED_DELETIONS, "confirm"),
    ],
)
def test_every_state_offers_its_fix_first(status: ConnectionStatus, action: str) -> None:
    view = connection_state(ConnectionFacts(status))
    assert view.actions[0] == action
    assert view.label
    assert "sync" not in view.actions or status is ConnectionStatus.ACTIVE


def test_a_running_pass_shows_as_syncing_without_sync_now() -> None:
    view = connection_state(ConnectionFacts(ConnectionStatus.ACTIVE, syncing=True))
    assert view.label == "Syncing"
    assert "sync" not in view.actions


def test_reason_is_shown_for_troubled_states_only() -> None:
    troubled = connection_state(
        ConnectionFacts(ConnectionStatus.NEEDS_REAUTH, reason="token revoked")
    )
    assert "(token revoked)" in troubled.explanation
    active = connection_state(ConnectionFacts(ConnectionStatus.ACTIVE, reason="revoked"))
    assert "revoked" not in active.explanation
    waiting = "Waiting for your IT admin's consent."
    awaiting = ConnectionFacts(ConnectionStatus.AWAITING_CONSENT, reason=waiting)
    assert connection_state(awaiting).explanation == waiting


def test_counts_line_sums_nested_counts_and_skips_the_guard() -> None:
    counts = {
        "in": {"appointment": {"create": 2, "update": 1}},
        "out": {"court_date": {"create": 3}, "guard": {"deletions": 40}},
        "conflicts": 1,
    }
    assert counts_line(counts) == "3 in, 3 out, 1 conflict"
    assert counts_line({}) == "0 in, 0 out"


def _entry(day: date, title: str, hour: int | None) -> EntryView:
    start = datetime(day.year, day.month, day.day, hour) if hour is not None else None
    return EntryView(uuid.uuid4(), EntryKind.APPOINTMENT, title, day, start, None)


def test_week_layout_orders_all_day_first_and_drops_other_weeks() -> None:
    monday = date(2026, 3, 9)
    tuesday = date(2026, 3, 10)
    entries = [
        _entry(tuesday, "late", 15),
        _entry(tuesday, "all day", None),
        _entry(tuesday, "early", 8),
        _entry(date(2026, 3, 16), "next week", 9),
    ]
    days = lay_out_week(monday, entries)
    assert days[0].day == monday
    assert len(days) == 7
    assert [e.title for e in days[1].entries] == ["all day", "early", "late"]
    assert sum(len(d.entries) for d in days) == 3
    assert days[5].is_weekend
    assert [d.day for d in agenda(entries)] == [tuesday, date(2026, 3, 16)]


def test_an_unauthorised_pending_connection_reads_as_unfinished() -> None:
    view = connection_state(ConnectionFacts(ConnectionStatus.PENDING, authorised=False))
    assert view.label == "Connection not finished"
    assert view.actions[0] == "connect_again"
    assert "choose" not in view.actions
    authorised = connection_state(ConnectionFacts(ConnectionStatus.PENDING))
    assert authorised.actions[0] == "choose"


def test_a_granted_consent_replaces_awaiting_consent() -> None:
    waiting = ConnectionFacts(ConnectionStatus.AWAITING_CONSENT, authorised=False, reason="why")
    assert connection_state(waiting).key == "awaiting_consent"
    granted = connection_state(replace(waiting, consent_granted=True))
    assert granted.key == "consent_granted"
    assert "Awaiting" not in granted.label
    assert granted.actions[0] == "modify"


@pytest.mark.parametrize(
    "status", [ConnectionStatus.PAUSED_NO_SEAT, ConnectionStatus.PAUSED_SUBSCRIPTION]
)
def test_paused_states_say_what_fixes_them_and_offer_no_sync(status: ConnectionStatus) -> None:
    view = connection_state(ConnectionFacts(status, reason="seat removed by Ada"))
    assert view.label.startswith("Paused: ")
    assert "(seat removed by Ada)" in view.explanation
    assert "resume" in view.admin_fix
    assert "sync" not in view.actions


def test_every_status_has_a_state_and_every_action_a_form() -> None:
    for status in ConnectionStatus:
        for facts in (ConnectionFacts(status), ConnectionFacts(status, authorised=False)):
            view = connection_state(facts)
            assert view.label
            assert all(a == "choose" or a in ACTION_PATHS for a in view.actions)
