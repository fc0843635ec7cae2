"""User and API token use cases: admins manage users; a token is shown once at creation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.api_tokens import IssuedToken, issue_token
from casecal.errors import Conflict, NotFound, ValidationFailed
from casecal.services import audit
from casecal.services.access import Actor, require_admin, require_admin_or_self
from casecal.services.entries import assign, commit
from casecal.services.lookups import get_in_firm
from casecal.services.paging import Page, fetch_page
from casecal.store.tables import ApiToken, Firm, Role, Seat, Team, User, utcnow


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value):
        raise ValidationFailed(f"{email!r} is not an email address", field="email")
    return value


async def check_email_free(
    session: AsyncSession, firm_id: uuid.UUID, email: str, except_id: uuid.UUID | None = None
) -> None:
    """Emails are unique within a firm only: another firm's use of an address is never
    consulted (or revealed)."""
    query = select(func.count()).where(User.firm_id == firm_id, User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    if (await session.execute(query)).scalar_one():
        raise Conflict(f"a user with email {email} exists already in this firm", field="email")


async def list_users(session: AsyncSession, actor: Actor, *, limit: int, offset: int) -> Page[User]:
    query = select(User).where(User.firm_id == actor.firm_id)
    return await fetch_page(
        session, query, order_by=(User.name, User.id), limit=limit, offset=offset
    )


async def get_user(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    return await get_in_firm(session, User, user_id, actor.firm_id)


async def user_names(
    session: AsyncSession, firm_id: uuid.UUID, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """The names of the users ``ids`` of ``firm_id`` (another firm's are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(User.id, User.name).where(User.firm_id == firm_id, User.id.in_(wanted))
    return {row.id: row.name for row in await session.execute(query)}


@dataclass(frozen=True)
class OwnZone:
    """The actor's own time zone (None: the firm's applies) and the firm's."""

    chosen: str | None
    firm_zone: str


async def _own_user(session: AsyncSession, actor: Actor) -> User | None:
    query = select(User).where(User.id == actor.user_id, User.firm_id == actor.firm_id)
    return await session.scalar(query)


async def own_zone(session: AsyncSession, actor: Actor) -> OwnZone:
    user = await _own_user(session, actor)
    firm = await session.get(Firm, actor.firm_id)
    return OwnZone(
        user.time_zone if user is not None else None,
        firm.time_zone if firm is not None else "UTC",
    )


async def set_own_zone(session: AsyncSession, actor: Actor, zone: str | None) -> None:
    """The actor's own time zone, or ``None`` to follow the firm's (commits). The caller
    checks the zone against the ones it offers."""
    user = await _own_user(session, actor)
    if user is not None:
        user.time_zone = zone
        await session.commit()


async def create_user(session: AsyncSession, actor: Actor, data: Mapping[str, Any]) -> User:
    require_admin(actor, "create users")
    fields = dict(data)
    fields["email"] = normalize_email(fields["email"])
    if fields.get("team_id") is not None:
        await get_in_firm(session, Team, fields["team_id"], actor.firm_id, field="team_id")
    await check_email_free(session, actor.firm_id, fields["email"])
    user = User(id=uuid.uuid4(), firm_id=actor.firm_id, is_active=True, **fields)
    session.add(user)
    audit.record(session, actor.firm_id, actor.user_id, "user.created", str(user.id),
                 {"role": str(user.role)})  # fmt: skip
    await commit(session)
    return user


async def update_user(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, data: Mapping[str, Any]
) -> User:
    """Change a user. A user holding a seat keeps the case manager role until the seat goes."""
    user = await get_user(session, actor, user_id)
    require_admin(actor, "change users")
    fields = dict(data)
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
        await check_email_free(session, actor.firm_id, fields["email"], user.id)
    if fields.get("team_id") is not None:
        await get_in_firm(session, Team, fields["team_id"], actor.firm_id, field="team_id")
    if fields.get("role", user.role) is not Role.CASE_MANAGER and user.role is Role.CASE_MANAGER:
        seats = await session.execute(select(func.count()).where(Seat.user_id == user.id))
        if seats.scalar_one():
            raise Conflict("the user holds a Calendar Sync seat; remove the seat first")
    if user.id == actor.user_id and (
        fields.get("role", user.role) is not Role.FIRM_ADMIN or fields.get("is_active") is False
    ):
        raise Conflict("an admin cannot demote or deactivate themselves")
    changed = sorted(key for key, value in fields.items() if getattr(user, key) != value)
    assign(user, fields)
    if changed:
        details: dict[str, Any] = {"fields": changed}
        if "role" in changed:
            details["role"] = str(user.role)
        if "is_active" in changed:
            details["active"] = user.is_active
        audit.record(session, actor.firm_id, actor.user_id, "user.updated", str(user.id), details)
    await commit(session)
    return user


async def create_token(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, name: str
) -> IssuedToken:
    """A new API token for ``user_id`` (admin or the user themselves)."""
    user = await get_user(session, actor, user_id)
    require_admin_or_self(actor, user.id, "create API tokens")
    if not user.is_active:
        raise Conflict("the user is deactivated")
    issued = await issue_token(session, user, name=name)
    audit.record(session, actor.firm_id, actor.user_id, "token.created", str(user.id),
                 {"name": name[:100]})  # fmt: skip
    await commit(session)
    return issued


async def list_tokens(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, *, limit: int, offset: int
) -> Page[ApiToken]:
    user = await get_user(session, actor, user_id)
    require_admin_or_self(actor, user.id, "see API tokens")
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.firm_id == actor.firm_id)
    order = (ApiToken.created_at, ApiToken.id)
    return await fetch_page(session, query, order_by=order, limit=limit, offset=offset)


async def revoke_token(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, token_id: uuid.UUID
) -> None:
    user = await get_user(session, actor, user_id)
    token = await get_in_firm(session, ApiToken, token_id, actor.firm_id)
    if token.user_id != user.id:
        raise NotFound(f"no API token with id {token_id} in this firm")
    require_admin_or_self(actor, user.id, "revoke API tokens")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor.firm_id, actor.user_id, "token.revoked", str(user.id),
                     {"name": token.name[:100]})  # fmt: skip
        await commit(session)
