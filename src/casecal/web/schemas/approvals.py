"""Connection approval models: what waits, a decline's reason, a team admin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from casecal.store.tables import ConnectionStatus, ProviderName
from casecal.web.schemas.common import Input, text


class ApprovalPublic(BaseModel):
    """A connection waiting for an admin's approval."""

    model_config = ConfigDict(from_attributes=True)

    connection_id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    user_email: str
    team_name: str = Field(description="The case manager's team; empty when they have none.")
    provider: ProviderName
    account_email: str = Field(description="The calendar account the case manager authorised.")
    calendar_name: str
    requested_at: datetime


class Decline(Input):
    reason: Annotated[str, text(1000, min_length=1)] = Field(
        description="Why the connection is declined; the case manager sees it."
    )


class DecisionPublic(BaseModel):
    """The connection after the decision."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    status: ConnectionStatus
    status_reason: str


class TeamAdminPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
