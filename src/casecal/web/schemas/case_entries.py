"""Court date, interview and step reminder models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from casecal.web.schemas.common import Input, Patch, ZoneName
from casecal.web.schemas.entries import (
    TIME_RULE,
    ZONE_RULE,
    Assignee,
    EntryPublic,
    Kind,
    Line,
    Minutes,
    Notes,
    Short,
)

START = "When it starts. " + TIME_RULE
CASE = "The case (of the caller's firm) this entry belongs to."


class _Timed(EntryPublic):
    start_at: datetime
    time_zone: str

    @model_validator(mode="after")
    def _local_time(self) -> Any:
        self.start_at = self.start_at.astimezone(ZoneInfo(self.time_zone))
        return self


class CourtDateCreate(Input):
    case_id: uuid.UUID = Field(description=CASE)
    assigned_user_id: Assignee = None
    hearing_type: Kind
    court_name: Line = ""
    court_address: Line = ""
    judge: Short = ""
    courtroom: Short = ""
    start_at: datetime = Field(description=START)
    duration_minutes: Minutes = 120
    time_zone: ZoneName | None = Field(default=None, description=ZONE_RULE)
    notes: Notes = ""


class CourtDateUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"case_id", "hearing_type", "court_name", "court_address", "judge", "courtroom",
         "start_at", "duration_minutes", "time_zone", "notes"}
    )  # fmt: skip
    case_id: uuid.UUID | SkipJsonSchema[None] = None
    assigned_user_id: Assignee = None
    hearing_type: Kind | SkipJsonSchema[None] = None
    court_name: Line | SkipJsonSchema[None] = None
    court_address: Line | SkipJsonSchema[None] = None
    judge: Short | SkipJsonSchema[None] = None
    courtroom: Short | SkipJsonSchema[None] = None
    start_at: datetime | SkipJsonSchema[None] = Field(default=None, description=START)
    duration_minutes: Minutes | SkipJsonSchema[None] = None
    time_zone: ZoneName | SkipJsonSchema[None] = Field(default=None, description=ZONE_RULE)
    notes: Notes | SkipJsonSchema[None] = None


class CourtDatePublic(_Timed):
    case_id: uuid.UUID
    assigned_user_id: uuid.UUID | None
    hearing_type: str
    court_name: str
    court_address: str
    judge: str
    courtroom: str
    duration_minutes: int
    notes: str


class InterviewCreate(Input):
    case_id: uuid.UUID = Field(description=CASE)
    assigned_user_id: Assignee = None
    interview_type: Kind
    office_name: Line = ""
    office_address: Line = ""
    officer: Short = ""
    documents: Notes = ""
    start_at: datetime = Field(description=START)
    duration_minutes: Minutes = 60
    time_zone: ZoneName | None = Field(default=None, description=ZONE_RULE)
    notes: Notes = ""


class InterviewUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"case_id", "interview_type", "office_name", "office_address", "officer", "documents",
         "start_at", "duration_minutes", "time_zone", "notes"}
    )  # fmt: skip
    case_id: uuid.UUID | SkipJsonSchema[None] = None
    assigned_user_id: Assignee = None
    interview_type: Kind | SkipJsonSchema[None] = None
    office_name: Line | SkipJsonSchema[None] = None
    office_address: Line | SkipJsonSchema[None] = None
    officer: Short | SkipJsonSchema[None] = None
    documents: Notes | SkipJsonSchema[None] = None
    start_at: datetime | SkipJsonSchema[None] = Field(default=None, description=START)
    duration_minutes: Minutes | SkipJsonSchema[None] = None
    time_zone: ZoneName | SkipJsonSchema[None] = Field(default=None, description=ZONE_RULE)
    notes: Notes | SkipJsonSchema[None] = None


class InterviewPublic(_Timed):
    case_id: uuid.UUID
    assigned_user_id: uuid.UUID | None
    interview_type: str
    office_name: str
    office_address: str
    officer: str
    documents: str
    duration_minutes: int
    notes: str


REMINDER = "The day the reminder shows (all day, in the firm's time zone); defaults to due_date."


class StepReminderCreate(Input):
    case_id: uuid.UUID = Field(description=CASE)
    assigned_user_id: Assignee = None
    step_name: Kind
    due_date: date
    reminder_date: date | None = Field(default=None, description=REMINDER)
    notes: Notes = ""


class StepReminderUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset({"case_id", "step_name", "due_date", "notes"})
    case_id: uuid.UUID | SkipJsonSchema[None] = None
    assigned_user_id: Assignee = None
    step_name: Kind | SkipJsonSchema[None] = None
    due_date: date | SkipJsonSchema[None] = None
    reminder_date: date | None = Field(default=None, description=REMINDER)
    notes: Notes | SkipJsonSchema[None] = None


class StepReminderPublic(EntryPublic):
    case_id: uuid.UUID
    assigned_user_id: uuid.UUID | None
    step_name: str
    due_date: date
    reminder_date: date | None
    notes: str
