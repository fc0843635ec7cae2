"""Identity aliases: a firm admin lets another external account authorise a case manager's
calendar (the identity guard then accepts it). Listed, allowed and removed here, audited."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.errors import Conflict, NotFound
from casecal.services import audit
from casecal.services.access import Actor, require_admin
from casecal.services.paging import Page, fetch_page
from casecal.services.users import normalize_email
from casecal.store.tables import IdentityAlias, ProviderName, User


async def _user(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or user.firm_id != actor.firm_id:
        raise NotFound("no such user", field="user_id")
    return user


async def list_aliases(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, *, limit: int, offset: int
) -> Page[IdentityAlias]:
    require_admin(actor, "see identity aliases")
    await _user(session, actor, user_id)
    query = select(IdentityAlias).where(
        IdentityAlias.firm_id == actor.firm_id, IdentityAlias.user_id == user_id
    )
    order = (IdentityAlias.created_at, IdentityAlias.id)
    return await fetch_page(session, query, order_by=order, limit=limit, offset=offset)


async def allow_alias(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, provider: ProviderName, email: str
) -> IdentityAlias:
    """Let ``email`` authorise ``user_id``'s calendar on ``provider``."""
    require_admin(actor, "allow identity aliases")
    await _user(session, actor, user_id)
    address = normalize_email(email)
    taken = await session.scalar(
        select(IdentityAlias.id).where(
            IdentityAlias.firm_id == actor.firm_id,
            IdentityAlias.provider == provider,
            func.lower(IdentityAlias.account_email) == address,
        )
    )
    if taken is not None:
        raise Conflict(f"{address} is already an alias on {provider.value}", field="account_email")
    alias = IdentityAlias(
        id=uuid.uuid4(), firm_id=actor.firm_id, user_id=user_id, provider=provider,
        account_email=address, created_by=actor.user_id,
    )  # fmt: skip
    session.add(alias)
    details = {"provider": provider.value, "account_email": address}
    audit.record(
        session, actor.firm_id, actor.user_id, "identity.alias_allowed", f"user:{user_id}", details
    )
    await session.commit()
    return alias


async def remove_alias(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, alias_id: uuid.UUID
) -> None:
    require_admin(actor, "remove identity aliases")
    alias = await session.get(IdentityAlias, alias_id)
    if alias is None or alias.firm_id != actor.firm_id or alias.user_id != user_id:
        raise NotFound("no such alias")
    await session.delete(alias)
    audit.record(session, actor.firm_id, actor.user_id, "identity.alias_removed",
                 f"user:{user_id}", {"account_email": alias.account_email})  # fmt: skip
    await session.commit()
