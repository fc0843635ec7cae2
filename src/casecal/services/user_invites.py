"""A firm admin adds a user from the admin pages: with an initial password, or with a one-time
link (shown to the admin and mailed to the user) where the user sets their own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth import password_links
from casecal.auth.passwords import MIN_LENGTH, hash_password
from casecal.config import Settings
from casecal.errors import ValidationFailed
from casecal.services.access import Actor, require_admin
from casecal.services.mail import send_mail
from casecal.services.users import create_user
from casecal.store.tables import User

LINK_REFUSED = (
    "This link is not valid any more: it was used already or has expired. Ask your firm admin "
    "for a new one."
)


@dataclass(frozen=True)
class AddedUser:
    user: User
    link: str
    """The one-time set-password link, when no initial password was given."""


def _hashed(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"a password needs at least {MIN_LENGTH} characters",
                               field="password")  # fmt: skip
    return hash_password(password)


async def add_user(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    data: Mapping[str, Any],
    password: str = "",
) -> AddedUser:
    """Create the user (``services.users.create_user`` checks the rest)."""
    require_admin(actor, "create users")
    fields = dict(data)
    fields["password_hash"] = _hashed(password) if password else None
    user = await create_user(session, actor, fields)
    if password:
        return AddedUser(user, "")
    link = password_links.link_url(settings, password_links.issue(settings, user.id, None))
    admin = await session.get(User, actor.user_id)
    who = admin.name if admin is not None else "Your firm admin"
    await send_mail(
        settings, user.email, "CaseCal: your account is ready",
        f"Hello {user.name},\n\n{who} added you to CaseCal. Choose your password here (the "
        f"link works once, for {password_links.LINK_DAYS} days):\n\n{link}\n",
    )  # fmt: skip
    return AddedUser(user, link)


async def user_of_link(session: AsyncSession, settings: Settings, token: str) -> User:
    """The active user a set-password link is for, while it is unused and unexpired."""
    claim = password_links.read(settings, token)
    user = await session.get(User, claim.user_id) if claim is not None else None
    if (
        claim is None
        or user is None
        or not user.is_active
        or claim.fingerprint != password_links.fingerprint(user.password_hash)
    ):
        raise ValidationFailed(LINK_REFUSED, field="token")
    return user


async def set_password_with_link(
    session: AsyncSession, settings: Settings, token: str, password: str
) -> uuid.UUID:
    """Set the password the link is for; the link stops working."""
    user = await user_of_link(session, settings, token)
    user.password_hash = _hashed(password)
    await session.commit()
    return user.id
