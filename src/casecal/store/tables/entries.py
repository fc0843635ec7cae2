"""The host calendar: cases with their managers, the four kinds of entry, and the outbox
rows written in the same transaction as each change of an entry."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casecal.domain.entries import EntryKind
from casecal.store.tables.base import Base, new_id, stored_enum, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("firm_id", "number", name="uq_cases_firm_number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))
    beneficiary: Mapped[str] = mapped_column(String(200))
    case_type: Mapped[str] = mapped_column(String(100), default="")
    a_number: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignments: Mapped[list[CaseAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    @property
    def manager_ids(self) -> list[uuid.UUID]:
        return [a.user_id for a in self.assignments]


class CaseAssignment(Base):
    """A case manager assigned to a case."""

    __tablename__ = "case_assignments"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )


class _Entry:
    """Columns every host calendar entry has. ``version`` increases on every change and is the
    optimistic-locking column; ``deleted_at`` marks a tombstone kept for the sync engine.
    ``starts_at``/``ends_at`` are the UTC span used by range queries (``ends_at`` is NULL for a
    series without end)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]


class Appointment(_Entry, Base):
    __tablename__ = "appointments"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.APPOINTMENT

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    notes: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(500), default="")
    all_day: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    """Exclusive end date of an all-day entry (as in iCalendar)."""
    time_zone: Mapped[str] = mapped_column(String(64))
    attendees: Mapped[list[Any]] = mapped_column(default=list)
    reminder_minutes: Mapped[int | None]
    private: Mapped[bool] = mapped_column(default=False)
    show_as: Mapped[str] = mapped_column(String(16), default="busy")
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[Any]] = mapped_column(default=list)
    """Excluded occurrences (ISO dates for all-day series, ISO datetimes otherwise)."""
    overrides: Mapped[list[Any]] = mapped_column(default=list)
    """Occurrences changed on their own: ``{"original_start", "title", "start", "end",
    "location", "notes"}`` each, times as in ``exdates``."""
    origin: Mapped[str] = mapped_column(String(16), default="host")
    """``host`` when made in CaseCal, ``remote`` when imported from an external calendar."""
    shared: Mapped[bool] = mapped_column(default=False)
    """An imported appointment without a case is its owner's alone (firm admins see a busy
    block) until the owner shares it with the firm."""


class CourtDate(_Entry, Base):
    __tablename__ = "court_dates"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.COURT_DATE

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    hearing_type: Mapped[str] = mapped_column(String(200))
    court_name: Mapped[str] = mapped_column(String(300), default="")
    court_address: Mapped[str] = mapped_column(String(500), default="")
    judge: Mapped[str] = mapped_column(String(200), default="")
    courtroom: Mapped[str] = mapped_column(String(100), default="")
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=120)
    time_zone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")


class Interview(_Entry, Base):
    __tablename__ = "interviews"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.INTERVIEW

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    interview_type: Mapped[str] = mapped_column(String(200))
    office_name: Mapped[str] = mapped_column(String(300), default="")
    office_address: Mapped[str] = mapped_column(String(500), default="")
    officer: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=60)
    time_zone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")


class StepReminder(_Entry, Base):
    __tablename__ = "step_reminders"
    __mapper_args__ = {"version_id_col": _Entry.version}
    kind = EntryKind.STEP_REMINDER

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    step_name: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date]
    reminder_date: Mapped[date | None]
    """The day the reminder shows; NULL means the due date."""
    notes: Mapped[str] = mapped_column(Text, default="")


ENTRY_TABLES: dict[EntryKind, type[Appointment | CourtDate | Interview | StepReminder]] = {
    EntryKind.APPOINTMENT: Appointment,
    EntryKind.COURT_DATE: CourtDate,
    EntryKind.INTERVIEW: Interview,
    EntryKind.STEP_REMINDER: StepReminder,
}


class OutboxOp(enum.StrEnum):
    """What happened to an entry, as seen by one affected user."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ASSIGNED = "assigned"  # the user newly sees the entry (case reassigned to them)
    UNASSIGNED = "unassigned"  # the user no longer sees the entry (case taken from them)


class OutboxRow(Base):
    """One pending change of one entry for one affected user, written in the same transaction
    as the change. The sync engine drains rows per user and marks them processed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "user_id", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_kind: Mapped[EntryKind] = mapped_column(stored_enum(EntryKind))
    entry_id: Mapped[uuid.UUID]
    entry_version: Mapped[int]
    operation: Mapped[OutboxOp] = mapped_column(stored_enum(OutboxOp))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
