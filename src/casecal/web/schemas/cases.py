"""Case models; ``manager_ids`` are the assigned case managers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from casecal.web.schemas.common import Input, Name, Patch, text

Number = Annotated[str, text(64, min_length=1)]
CaseType = Annotated[str, text(100)]
ANumber = Annotated[str, text(32)]
Managers = Annotated[
    list[uuid.UUID],
    Field(
        max_length=50,
        description="Ids of the assigned case managers (users with role `case_manager`). "
        "Setting it reassigns the case: entries that follow the case managers move with it.",
    ),
]


class CaseCreate(Input):
    number: Number
    beneficiary: Name
    case_type: CaseType = ""
    a_number: ANumber | None = None
    manager_ids: Managers = []


class CaseUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"number", "beneficiary", "case_type", "manager_ids"}
    )
    number: Number | SkipJsonSchema[None] = None
    beneficiary: Name | SkipJsonSchema[None] = None
    case_type: CaseType | SkipJsonSchema[None] = None
    a_number: ANumber | None = None
    manager_ids: Managers | SkipJsonSchema[None] = None


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    beneficiary: str
    case_type: str
    a_number: str | None
    manager_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
