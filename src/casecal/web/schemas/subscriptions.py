"""Subscription and seat models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from casecal.store.tables import SubscriptionStatus
from casecal.web.schemas.common import Input


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: SubscriptionStatus = Field(description="`requested`, `active` or `cancelled`.")
    requested_at: datetime
    activated_at: datetime | None
    cancelled_at: datetime | None


class SeatCreate(Input):
    user_id: uuid.UUID = Field(description="A case manager of the firm.")


class SeatPublic(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    added_at: datetime
