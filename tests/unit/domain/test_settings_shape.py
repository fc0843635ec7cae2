"""What the engine takes from the effective settings: each kind's look in the canonical event
(so a changed setting changes the fingerprint), the policy (per-kind remote deletes, the
appointments' conflict rule) and the digest that tells a pass to plan its calendar again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from casecal.domain.effective_settings import Stored, effective_all
from casecal.domain.entries import Appointment, CourtDate, EntryKind
from casecal.domain.event import CanonicalEvent
from casecal.domain.mapping import event_for_entry
from casecal.domain.policy import ConflictPolicy
from casecal.domain.settings_catalog import Level

START = datetime(2027, 3, 1, 14, tzinfo=UTC)
COURT = CourtDate(id=uuid.uuid4(), case_id=uuid.uuid4(), hearing_type="Master Calendar",
                  start_at=START, time_zone="America/New_York")  # fmt: skip
MEETING = Appointment(id=uuid.uuid4(), owner_id=uuid.uuid4(), title="Client", start_at=START,
                      time_zone="UTC", reminder_minutes=5)  # fmt: skip


def _event(entry: CourtDate | Appointment, **user: object) -> CanonicalEvent:
    """``entry``'s event with these user-level values (``__`` for the key's dot)."""
    settings = effective_all(
        {Level.USER: {k.replace("__", "."): Stored(v) for k, v in user.items()}}
    )
    return event_for_entry(entry, case=None, connection_id=uuid.UUID(int=1),
                           base_url="https://casecal.test",
                           presentation=settings.presentation(entry.kind))  # fmt: skip


def test_the_defaults_are_todays_event_and_a_setting_changes_the_fingerprint() -> None:
    plain = event_for_entry(COURT, case=None, connection_id=uuid.UUID(int=1),
                            base_url="https://casecal.test")  # fmt: skip
    assert _event(COURT).fingerprint() == plain.fingerprint()
    shaped = _event(COURT, reminders__court_date=[30], show_as__court_date="free",
                    visibility__court_date="private")  # fmt: skip
    assert (shaped.reminders, shaped.busy, shaped.private) == ((30,), False, True)
    assert shaped.fingerprint() != plain.fingerprint()


def test_an_appointment_keeps_its_own_reminder_busy_and_privacy() -> None:
    event = _event(MEETING, reminders__court_date=[30], show_as__court_date="free")
    assert (event.reminders, event.busy, event.private) == ((5,), True, False)


def test_the_policy_takes_each_kinds_remote_deletes_and_the_conflict_rule() -> None:
    settings = effective_all(
        {
            Level.FIRM: {"remote_deletes.interview": Stored("respect")},
            Level.USER: {"conflicts.appointment": Stored("host_wins")},
        }
    )
    policy = settings.policy()
    assert policy.respects_remote_deletes(EntryKind.INTERVIEW)
    assert not policy.respects_remote_deletes(EntryKind.COURT_DATE)
    assert policy.conflicts is ConflictPolicy.HOST_WINS


def test_the_digest_follows_what_shapes_the_calendar_only() -> None:
    base = effective_all({}).shape_digest(opted_in=False)
    assert effective_all({}).shape_digest(opted_in=True) != base  # step reminders come in
    guard = effective_all({Level.FIRM: {"guard.percent": Stored(5)}})
    assert guard.shape_digest(opted_in=False) == base  # read at plan time: nothing to redo
    off = effective_all({Level.FIRM: {"sync.interview": Stored("off")}})
    assert off.shape_digest(opted_in=False) != base
