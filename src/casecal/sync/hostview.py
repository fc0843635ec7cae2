"""The host side of one connection: entry rows as domain values, who sees what, fingerprints,
and writing remote changes into appointments (without echoing them back to the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cached_property
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain import entries as d
from casecal.domain import overrides
from casecal.domain.effective_settings import EffectiveSettings
from casecal.domain.event import CanonicalEvent
from casecal.domain.mapping import AppointmentFields, event_for_entry
from casecal.domain.plan import HostSide
from casecal.store.tables import (
    ENTRY_TABLES,
    Appointment,
    Case,
    CaseAssignment,
    Connection,
    CourtDate,
    EntryKind,
    Interview,
    StepReminder,
    utcnow,
)

EntryRow = Appointment | CourtDate | Interview | StepReminder


def to_domain(row: EntryRow) -> d.HostEntry:
    """The frozen domain value of an entry row."""
    if isinstance(row, Appointment):
        return d.Appointment(
            id=row.id, owner_id=row.owner_id, title=row.title, time_zone=row.time_zone,
            case_id=row.case_id, notes=row.notes, location=row.location, all_day=row.all_day,
            start_at=row.start_at, end_at=row.end_at, start_date=row.start_date,
            end_date=row.end_date,
            attendees=tuple(d.Person(a["email"], a.get("name", "")) for a in row.attendees),
            reminder_minutes=row.reminder_minutes, private=row.private, show_as=row.show_as,
            rrule=row.rrule, exdates=tuple(overrides.parse_time(x) for x in row.exdates),
            overrides=tuple(overrides.from_stored(x) for x in row.overrides), origin=row.origin,
        )  # fmt: skip
    if isinstance(row, CourtDate):
        return d.CourtDate(
            id=row.id, case_id=row.case_id, hearing_type=row.hearing_type,
            start_at=row.start_at, time_zone=row.time_zone,
            assigned_user_id=row.assigned_user_id, court_name=row.court_name,
            court_address=row.court_address, judge=row.judge, courtroom=row.courtroom,
            duration_minutes=row.duration_minutes, notes=row.notes,
        )  # fmt: skip
    if isinstance(row, Interview):
        return d.Interview(
            id=row.id, case_id=row.case_id, interview_type=row.interview_type,
            start_at=row.start_at, time_zone=row.time_zone,
            assigned_user_id=row.assigned_user_id, office_name=row.office_name,
            office_address=row.office_address, officer=row.officer, documents=row.documents,
            duration_minutes=row.duration_minutes, notes=row.notes,
        )  # fmt: skip
    return d.StepReminder(
        id=row.id, case_id=row.case_id, step_name=row.step_name, due_date=row.due_date,
        assigned_user_id=row.assigned_user_id, reminder_date=row.reminder_date, notes=row.notes,
    )  # fmt: skip


def _case_value(row: Case) -> d.Case:
    return d.Case(
        id=row.id, number=row.number, beneficiary=row.beneficiary,
        case_type=row.case_type, a_number=row.a_number,
    )  # fmt: skip


@dataclass(frozen=True)
class HostItem:
    """One live host entry as this connection sees it."""

    row: EntryRow
    event: CanonicalEvent

    @cached_property
    def side(self) -> HostSide:
        """The host side the plan sees (worked out once: the plan and the write read it)."""
        return HostSide(
            kind=self.row.kind,
            fingerprint=self.event.fingerprint(),
            modified=self.row.updated_at,
            version=self.row.version,
        )


class HostView:
    """Reads and writes the host entries of one connection's user, firm-scoped throughout."""

    def __init__(
        self,
        session: AsyncSession,
        connection: Connection,
        settings: EffectiveSettings,
        *,
        base_url: str,
        firm_tz: str,
    ) -> None:
        self.session = session
        self.connection = connection
        self.settings = settings
        self.base_url = base_url
        self.firm_tz = firm_tz

    @property
    def firm_id(self) -> uuid.UUID:
        return self.connection.firm_id

    def kind_enabled(self, kind: EntryKind) -> bool:
        """Whether entries of ``kind`` go to this calendar (``sync.<kind>``; step reminders
        on ``opt_in`` as the owner chose when connecting). An entry of a kind switched off is
        not for this calendar, like one that left the user's audience: its event is removed."""
        return self.settings.syncs(kind, opted_in=self.connection.step_reminders)

    async def prefetch(
        self, keys: Iterable[tuple[EntryKind, uuid.UUID]]
    ) -> dict[tuple[EntryKind, uuid.UUID], EntryRow]:
        """Load many entry rows into the session at once (one query per kind and 500 ids),
        so ``load`` finds them without a query each (a page of a change round); answers
        them by (kind, id), tombstoned ones included, never another firm's."""
        by_kind: dict[EntryKind, list[uuid.UUID]] = {}
        for kind, entry_id in dict.fromkeys(keys):
            by_kind.setdefault(kind, []).append(entry_id)
        found: dict[tuple[EntryKind, uuid.UUID], EntryRow] = {}
        for kind, ids in by_kind.items():
            model = ENTRY_TABLES[kind]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(model).where(model.firm_id == self.firm_id, model.id.in_(chunk))
                rows = cast(list[EntryRow], (await self.session.scalars(query)).all())
                # The identity map holds rows weakly: keep them for the session's life.
                self.session.info.setdefault("prefetched", []).extend(rows)
                found.update(((kind, row.id), row) for row in rows)
        return found

    async def prefetch_cases(self, rows: Iterable[EntryRow]) -> None:
        """Load the cases of many entry rows (and their managers) at once, so ``item``
        finds them without a query each."""
        ids = list({c for row in rows if (c := getattr(row, "case_id", None)) is not None})
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(Case).where(Case.firm_id == self.firm_id, Case.id.in_(chunk))
            cases = (await self.session.scalars(query)).all()
            self.session.info.setdefault("prefetched", []).extend(cases)

    async def load(self, kind: EntryKind, entry_id: uuid.UUID) -> EntryRow | None:
        """The entry row (tombstoned ones included), or None; never another firm's."""
        row = cast(EntryRow | None, await self.session.get(ENTRY_TABLES[kind], entry_id))
        return row if row is not None and row.firm_id == self.firm_id else None

    async def item(self, row: EntryRow | None) -> HostItem | None:
        """The live entry as this connection sees it, or None when it is deleted, of a kind
        the connection does not take, or not in this user's audience."""
        if row is None or row.deleted_at is not None or not self.kind_enabled(row.kind):
            return None
        case = await self._case(getattr(row, "case_id", None))
        if not await self._sees(row, case):
            return None
        event = event_for_entry(
            to_domain(row),
            case=_case_value(case) if case is not None else None,
            connection_id=self.connection.id,
            base_url=self.base_url,
            default_tz=self.firm_tz,
            presentation=self.settings.presentation(row.kind),
        )
        return HostItem(row=row, event=event)

    async def _case(self, case_id: uuid.UUID | None) -> Case | None:
        if case_id is None:
            return None
        case = await self.session.get(Case, case_id)
        return case if case is not None and case.firm_id == self.firm_id else None

    async def _sees(self, row: EntryRow, case: Case | None) -> bool:
        user = self.connection.user_id
        if isinstance(row, Appointment):
            return row.owner_id == user
        if row.assigned_user_id is not None:
            return row.assigned_user_id == user
        return case is not None and user in case.manager_ids

    async def audience_keys(
        self, since_end: datetime | None
    ) -> list[tuple[EntryKind, uuid.UUID, int]]:
        """(kind, id, version) of every live entry this user sees that ends after
        ``since_end`` (all when None), in start order: the backfill of a new connection.
        Keys only, so a calendar of tens of thousands of entries is not held as rows."""
        user = self.connection.user_id
        my_cases = select(CaseAssignment.case_id).where(
            CaseAssignment.user_id == user, CaseAssignment.firm_id == self.firm_id
        )
        keys: list[tuple[EntryKind, uuid.UUID, int]] = []
        for kind, model in ENTRY_TABLES.items():
            if not self.kind_enabled(kind):
                continue
            query = select(model.id, model.version).where(
                model.firm_id == self.firm_id, model.deleted_at.is_(None)
            )
            if model is Appointment:
                query = query.where(Appointment.owner_id == user)
            else:
                assigned = model.assigned_user_id  # type: ignore[union-attr]
                query = query.where(
                    or_(
                        assigned == user,
                        assigned.is_(None) & model.case_id.in_(my_cases),
                    )
                )
            if since_end is not None:
                query = query.where(or_(model.ends_at.is_(None), model.ends_at > since_end))
            found = await self.session.execute(query.order_by(model.starts_at))
            keys.extend((kind, entry_id, version) for entry_id, version in found.all())
        return keys

    # --- remote -> host (appointments only; host-authoritative kinds are never written) ----

    def create_appointment(self, fields: AppointmentFields) -> Appointment:
        row = Appointment(
            id=uuid.uuid4(),
            firm_id=self.firm_id,
            owner_id=self.connection.user_id,
            origin="remote",
            **_appointment_values(fields),
        )
        self.session.add(row)
        return row

    def update_appointment(self, row: Appointment, fields: AppointmentFields) -> None:
        for name, value in _appointment_values(fields).items():
            setattr(row, name, value)

    def delete_entry(self, row: EntryRow) -> None:
        row.deleted_at = utcnow()


def _appointment_values(fields: AppointmentFields) -> dict[str, object]:
    zone = ZoneInfo(fields.time_zone)
    if fields.all_day:
        if fields.start_date is None or fields.end_date is None:
            raise ValueError("an all-day appointment needs its dates")
        starts = datetime.combine(fields.start_date, time(), zone).astimezone(UTC)
        ends: datetime | None = datetime.combine(fields.end_date, time(), zone).astimezone(UTC)
    else:
        if fields.start_at is None or fields.end_at is None:
            raise ValueError("a timed appointment needs its start and end")
        starts, ends = fields.start_at.astimezone(UTC), fields.end_at.astimezone(UTC)
    if fields.rrule:
        ends = None  # a remote series: its span is open until the engine computes otherwise
    return {
        "title": fields.title[:500],
        "notes": fields.notes,
        "location": fields.location[:500],
        "all_day": fields.all_day,
        "start_at": None if fields.all_day else fields.start_at,
        "end_at": None if fields.all_day else fields.end_at,
        "start_date": fields.start_date if fields.all_day else None,
        "end_date": fields.end_date if fields.all_day else None,
        "time_zone": fields.time_zone,
        "attendees": [{"email": p.email, "name": p.name} for p in fields.attendees],
        "reminder_minutes": fields.reminder_minutes,
        "private": fields.private,
        "show_as": fields.show_as,
        "rrule": fields.rrule,
        "exdates": [x.isoformat() for x in fields.exdates],
        "overrides": [overrides.to_stored(x) for x in fields.overrides],
        "starts_at": starts,
        "ends_at": ends,
    }
