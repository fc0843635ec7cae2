"""Fields every entry kind shares in the API, and the documented time rule."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from casecal.web.schemas.common import text

TIME_RULE = (
    "ISO 8601 datetime. With a UTC offset (`2026-03-10T09:00:00-04:00`, `...Z`) it is that "
    "instant; without one (`2026-03-10T09:00:00`) it is wall-clock time in `time_zone`, and a "
    "wall time that does not exist there (a daylight-saving gap) is rejected. Responses give "
    "the time with the offset of `time_zone`."
)
ZONE_RULE = "IANA time zone of the entry; defaults to the firm's time zone."

Notes = Annotated[str, text(10_000)]
Line = Annotated[str, text(300)]
Short = Annotated[str, text(200)]
Kind = Annotated[str, text(200, min_length=1)]
Minutes = Annotated[int, Field(ge=1, le=7 * 24 * 60, description="Duration in minutes.")]
Assignee = Annotated[
    uuid.UUID | None,
    Field(
        description="A user of the firm who gets this entry instead of the case's case managers."
    ),
]


class EntryPublic(BaseModel):
    """Bookkeeping every entry carries."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int = Field(description="Goes up by one on every change, deletion included.")
    starts_at: datetime = Field(description="Start of the UTC span used by range queries.")
    ends_at: datetime | None = Field(
        description="End of the UTC span (of the last occurrence of a series); null for a "
        "series without end."
    )
    created_at: datetime
    updated_at: datetime
