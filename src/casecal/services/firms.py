"""Creating a firm (the tenant) with its first admin and an API token for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.api_tokens import issue_token
from casecal.domain.validation import time_zone as check_zone
from casecal.services.entries import commit
from casecal.services.users import normalize_email
from casecal.store.tables import Firm, Role, User


@dataclass(frozen=True)
class CreatedFirm:
    firm_id: uuid.UUID
    admin_user_id: uuid.UUID
    token: str
    """The admin's API token; only its hash is stored, so this is the one chance to see it."""


async def create_firm(
    session: AsyncSession,
    *,
    name: str,
    admin_email: str,
    admin_name: str,
    time_zone: str = "America/New_York",
) -> CreatedFirm:
    """Create a firm, its admin and the admin's first API token, in one transaction (commits)."""
    zone = check_zone(time_zone)
    email = normalize_email(admin_email)
    firm = Firm(id=uuid.uuid4(), name=name.strip() or "Firm", time_zone=zone.key, settings={})
    admin = User(
        id=uuid.uuid4(),
        firm_id=firm.id,
        email=email,
        name=admin_name.strip() or email,
        role=Role.FIRM_ADMIN,
        is_active=True,
    )
    session.add_all([firm, admin])
    await session.flush()
    issued = await issue_token(session, admin, name="initial admin token")
    await commit(session)
    return CreatedFirm(firm_id=firm.id, admin_user_id=admin.id, token=issued.token)
