"""Team models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

from casecal.web.schemas.common import Input, Name, Patch


class TeamCreate(Input):
    name: Name


class TeamUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset({"name"})
    name: Name | SkipJsonSchema[None] = None


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime
