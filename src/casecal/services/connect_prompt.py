"""The connect prompt after a single sign-on: right after the sign-in, a case manager with a
seat and no connected calendar is taken to the connect page (when ``sso.ask_to_connect`` is in
effect for them), the calendar of their identity provider offered first; "Not now" keeps the
prompt away for ``sso.ask_to_connect_snooze_days``. A case manager single sign-on creates gets
a seat when ``sso.seat_at_provisioning`` says so.

"Not now" is kept as the person's ``connect_prompt.not_now`` audit event: the newest one says
when they last declined, and the firm admin sees who declined in the audit log. The rules
themselves are pure (``casecal.domain.connect_prompt``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.connect_prompt import (
    ASK_TO_CONNECT,
    SEAT_AT_PROVISIONING,
    SNOOZE_DAYS,
    Prompt,
    PromptFacts,
    has_calendar,
    offer,
    prompt_for,
)
from casecal.domain.effective_settings import EffectiveSettings
from casecal.errors import PermissionDenied
from casecal.services import audit
from casecal.services.access import Actor
from casecal.store.sso_tables import SsoConfig
from casecal.store.tables import (
    AuditEvent,
    Connection,
    Role,
    Seat,
    Subscription,
    SubscriptionStatus,
    User,
    utcnow,
)
from casecal.sync.settings_query import effective_for

NOT_NOW = "connect_prompt.not_now"
SHOWN = "connect_prompt.shown"
SEAT_STATUSES = (SubscriptionStatus.REQUESTED, SubscriptionStatus.ACTIVE)
"""Subscriptions a seat may be added to (as a firm admin's Add a seat)."""


async def after_sso_sign_in(
    session: AsyncSession,
    firm_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    provisioned: bool,
    now: datetime | None = None,
) -> Prompt | None:
    """What follows a single sign-on of ``user_id``: a seat for a case manager just created
    (when the firm's settings give one), then the prompt to show, if any (audited as
    ``connect_prompt.shown``). Commits."""
    user = await session.get(User, user_id)
    if user is None or user.firm_id != firm_id:
        return None
    settings = await effective_for(session, firm_id, user_id)
    if provisioned and user.role is Role.CASE_MANAGER and settings.flag(SEAT_AT_PROVISIONING):
        await _give_seat(session, user)
    prompt = prompt_for(await _facts(session, user, settings), now or utcnow())
    if prompt is not None:
        audit.record(session, firm_id, user_id, SHOWN, f"user:{user_id}",
                     {"preselected": prompt.preselected or ""})  # fmt: skip
    await session.commit()
    return prompt


async def prompt_page(session: AsyncSession, actor: Actor) -> Prompt | None:
    """What the connect page offers the signed-in person (whether or not they said "Not now"
    before: they opened it), or None when there is nothing for them to connect."""
    user = await session.get(User, actor.user_id)
    if user is None or user.firm_id != actor.firm_id:
        return None
    settings = await effective_for(session, actor.firm_id, actor.user_id)
    facts = await _facts(session, user, settings)
    if not (facts.is_case_manager and facts.seated) or has_calendar(facts.connection_states):
        return None
    return offer(facts.allowed, facts.idp_kind)


async def not_now(session: AsyncSession, actor: Actor) -> int:
    """The person declines the prompt: remembered (audited) for the days their settings say;
    returns that number of days. Commits."""
    user = await session.get(User, actor.user_id)
    if user is None or user.firm_id != actor.firm_id or not user.is_active:
        raise PermissionDenied("your account is not active")
    days = _snooze_days(await effective_for(session, actor.firm_id, actor.user_id))
    audit.record(session, actor.firm_id, actor.user_id, NOT_NOW, f"user:{actor.user_id}",
                 {"days": days})  # fmt: skip
    await session.commit()
    return days


async def last_not_now(
    session: AsyncSession, firm_id: uuid.UUID, user_id: uuid.UUID
) -> datetime | None:
    """When the person last chose "Not now" (their newest ``connect_prompt.not_now`` event)."""
    found: datetime | None = await session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.firm_id == firm_id,
            AuditEvent.actor_user_id == user_id,
            AuditEvent.action == NOT_NOW,
        )
    )
    return found


def _snooze_days(settings: EffectiveSettings) -> int:
    value = settings[SNOOZE_DAYS].value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _facts(session: AsyncSession, user: User, settings: EffectiveSettings) -> PromptFacts:
    firm_id = user.firm_id
    config = await session.get(SsoConfig, firm_id)
    states = await session.scalars(
        select(Connection.status).where(
            Connection.firm_id == firm_id, Connection.user_id == user.id
        )
    )
    return PromptFacts(
        ask=settings.flag(ASK_TO_CONNECT),
        snooze_days=_snooze_days(settings),
        is_case_manager=user.role is Role.CASE_MANAGER and user.is_active,
        seated=await _seated(session, firm_id, user.id),
        connection_states=[s.value for s in states.all()],
        last_not_now=await last_not_now(session, firm_id, user.id),
        allowed=settings.providers_allowed(),
        idp_kind=config.kind if config is not None else "",
    )


async def _seated(session: AsyncSession, firm_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """A seat on the firm's active subscription: what connecting a calendar needs."""
    seat = await session.scalar(
        select(Seat.id)
        .join(Subscription, Subscription.id == Seat.subscription_id)
        .where(
            Seat.firm_id == firm_id,
            Seat.user_id == user_id,
            Subscription.firm_id == firm_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
    )
    return seat is not None


async def _give_seat(session: AsyncSession, user: User) -> None:
    """A seat for a case manager single sign-on created, when the firm has a requested or
    active subscription (CaseCal sets no cap on seats); audited as ``seat.added``."""
    sub = await session.scalar(
        select(Subscription).where(
            Subscription.firm_id == user.firm_id, Subscription.status.in_(SEAT_STATUSES)
        )
    )
    if sub is None:
        return
    taken = await session.scalar(
        select(Seat.id).where(Seat.subscription_id == sub.id, Seat.user_id == user.id)
    )
    if taken is not None:
        return
    session.add(Seat(firm_id=user.firm_id, subscription_id=sub.id, user_id=user.id,
                     added_at=utcnow()))  # fmt: skip
    audit.record(session, user.firm_id, None, "seat.added", f"user:{user.id}",
                 {"email": user.email, "by": "single sign-on"})  # fmt: skip
    await session.flush()
