"""User and API token models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from casecal.store.tables import Role
from casecal.web.schemas.common import EMAIL, Input, Name, Patch, text

Email = Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL)]


class UserCreate(Input):
    email: Email
    name: Name
    role: Role = Field(description="`firm_admin`, `case_manager` or `staff`.")
    team_id: uuid.UUID | None = None


class UserUpdate(Patch):
    not_null: ClassVar[frozenset[str]] = frozenset({"email", "name", "role", "is_active"})
    email: Email | SkipJsonSchema[None] = None
    name: Name | SkipJsonSchema[None] = None
    role: Role | SkipJsonSchema[None] = None
    team_id: uuid.UUID | None = None
    is_active: bool | SkipJsonSchema[None] = Field(
        default=None, description="Deactivated users cannot sign in; their tokens stop working."
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role
    team_id: uuid.UUID | None
    is_active: bool
    created_at: datetime


class TokenCreate(Input):
    name: Annotated[str, text(200, min_length=1)] = "api"


class TokenPublic(BaseModel):
    """A token as listed: never the token itself, only its first characters."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    """A new token. `token` is shown only in this response; CaseCal keeps just its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    token: str = Field(description="Send as `Authorization: Bearer <token>`. Shown once.")
