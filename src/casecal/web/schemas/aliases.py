"""Identity alias models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from casecal.store.tables import ProviderName
from casecal.web.schemas.common import EMAIL, Input


class AliasCreate(Input):
    provider: ProviderName = Field(description="`google` or `microsoft`.")
    account_email: Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL)] = Field(
        description="The external account that may authorise this user's calendar."
    )


class AliasPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    provider: ProviderName
    account_email: str
    created_at: datetime
