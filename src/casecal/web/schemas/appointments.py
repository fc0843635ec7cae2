"""Appointment models: timed (start_at/end_at) or all-day (start_date/end_date), maybe recurring."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from casecal.web.schemas.common import (
    LOOSE_EMAIL,
    NO_CONTROL_LINE,
    Input,
    Patch,
    ZoneName,
    text,
)
from casecal.web.schemas.entries import TIME_RULE, ZONE_RULE, EntryPublic, Line, Notes

Title = Annotated[str, text(500, min_length=1)]
Location = Annotated[str, text(500)]
Rule = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        pattern=r"^[A-Za-z0-9=;:,+\-]*$",
        description="One RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO;COUNT=10`), without DTSTART: "
        "the series starts at the entry's start. FREQ is DAILY, WEEKLY, MONTHLY or YEARLY; "
        "COUNT and UNTIL exclude each other; a timed series gives UNTIL in UTC (`...Z`).",
    ),
]
Exdates = Annotated[
    list[Annotated[str, Field(max_length=40, pattern=NO_CONTROL_LINE)]],
    Field(
        max_length=500,
        description="Excluded occurrences: ISO dates for an all-day series, else datetimes "
        "(same time rule as `start_at`).",
    ),
]
OccurrenceTime = Annotated[str, Field(min_length=10, max_length=40, pattern=NO_CONTROL_LINE)]


class OccurrenceOverride(Input):
    """One occurrence of the series changed on its own (moved, retitled, another place)."""

    original_start: OccurrenceTime = Field(
        description="Which occurrence: where the rule puts it (an ISO date for an all-day "
        "series, else a datetime, as in `exdates`)."
    )
    title: Title
    start: OccurrenceTime = Field(description="Its own start (date or datetime, as above).")
    end: OccurrenceTime = Field(description="Its own end, not before `start`.")
    location: Location = ""
    notes: Notes = ""


Overrides = Annotated[
    list[OccurrenceOverride],
    Field(
        max_length=500,
        description="Occurrences changed on their own; each names an occurrence of `rrule`. "
        "On PATCH the list replaces the one held.",
    ),
]
Reminder = Annotated[int, Field(ge=0, le=40_320, description="Minutes before the start.")]
ShowAs = Literal["busy", "free"]
START = "Start of a timed appointment. " + TIME_RULE
END = "End of a timed appointment, not before `start_at`. " + TIME_RULE
START_DATE = "First day of an all-day appointment."
END_DATE = "Day after the last day of an all-day appointment (exclusive); defaults to the next day."


class Attendee(Input):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=LOOSE_EMAIL)]
    name: Line = ""


class AppointmentCreate(Input):
    title: Title
    owner_id: uuid.UUID | None = Field(
        default=None, description="Whose calendar; defaults to the caller (admins may set it)."
    )
    case_id: uuid.UUID | None = None
    notes: Notes = ""
    location: Location = ""
    all_day: bool = False
    start_at: datetime | None = Field(default=None, description=START)
    end_at: datetime | None = Field(default=None, description=END)
    start_date: date | None = Field(default=None, description=START_DATE)
    end_date: date | None = Field(default=None, description=END_DATE)
    time_zone: ZoneName | None = Field(default=None, description=ZONE_RULE)
    attendees: Annotated[list[Attendee], Field(max_length=100)] = []
    reminder_minutes: Reminder | None = None
    private: bool = False
    show_as: ShowAs = "busy"
    rrule: Rule | None = None
    exdates: Exdates = []
    overrides: Overrides = []


class AppointmentUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"title", "owner_id", "notes", "location", "all_day", "time_zone", "attendees",
         "private", "show_as", "exdates", "overrides"}
    )  # fmt: skip
    title: Title | SkipJsonSchema[None] = None
    owner_id: uuid.UUID | SkipJsonSchema[None] = None
    case_id: uuid.UUID | None = None
    notes: Notes | SkipJsonSchema[None] = None
    location: Location | SkipJsonSchema[None] = None
    all_day: bool | SkipJsonSchema[None] = None
    start_at: datetime | None = Field(default=None, description=START)
    end_at: datetime | None = Field(default=None, description=END)
    start_date: date | None = Field(default=None, description=START_DATE)
    end_date: date | None = Field(default=None, description=END_DATE)
    time_zone: ZoneName | SkipJsonSchema[None] = Field(default=None, description=ZONE_RULE)
    attendees: Annotated[list[Attendee], Field(max_length=100)] | SkipJsonSchema[None] = None
    reminder_minutes: Reminder | None = None
    private: bool | SkipJsonSchema[None] = None
    show_as: ShowAs | SkipJsonSchema[None] = None
    rrule: Rule | None = None
    exdates: Exdates | SkipJsonSchema[None] = None
    overrides: Overrides | SkipJsonSchema[None] = None


class AttendeePublic(BaseModel):
    email: str
    name: str = ""


class OccurrenceOverridePublic(BaseModel):
    original_start: str
    title: str
    start: str
    end: str
    location: str = ""
    notes: str = ""


class AppointmentPublic(EntryPublic):
    model_config = ConfigDict(from_attributes=True)

    owner_id: uuid.UUID
    case_id: uuid.UUID | None
    title: str
    notes: str
    location: str
    all_day: bool
    start_at: datetime | None
    end_at: datetime | None
    start_date: date | None
    end_date: date | None
    time_zone: str
    attendees: list[AttendeePublic]
    reminder_minutes: int | None
    private: bool
    show_as: str
    rrule: str | None
    exdates: list[str]
    overrides: list[OccurrenceOverridePublic]
    origin: str = Field(
        description="`host`: made in CaseCal; `remote`: imported from the owner's calendar."
    )
    shared: bool = Field(
        description="An imported appointment without a case is its owner's alone until they "
        "share it (`POST .../share`)."
    )
    busy_block: bool = Field(
        default=False,
        description="True when the caller sees only that the owner is busy: title `Busy`, "
        "no notes, place, attendees or case.",
    )

    @model_validator(mode="after")
    def _local_times(self) -> Any:
        zone = ZoneInfo(self.time_zone)
        if self.start_at is not None:
            self.start_at = self.start_at.astimezone(zone)
        if self.end_at is not None:
            self.end_at = self.end_at.astimezone(zone)
        return self
