"""Microsoft tenant-wide admin consent: the consent URL, the admin's round trip, telling every
waiting case manager (in the app and by email) to finish with Modify, the admin's consent
panel, and the identity aliases a firm admin allows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.auth import oauth
from casecal.auth.states import OAuthRefused, consume_state, create_state
from casecal.config import Settings
from casecal.services import audit
from casecal.services.access import Actor, require_admin
from casecal.services.mail import send_mail
from casecal.store.tables import (
    Connection,
    ConnectionStatus,
    ProviderName,
    TenantConsent,
    User,
    utcnow,
)
from casecal.sync.outbox_rows import note_outbox_users

CONSENT_SCOPE = "https://graph.microsoft.com/.default"
READY_REASON = (
    "Your IT admin approved CaseCal for your organisation. Click Modify to finish connecting "
    "your calendar."
)


@dataclass(frozen=True)
class WaitingUser:
    name: str
    email: str


@dataclass(frozen=True)
class TenantConsentView:
    tenant_id: str
    status: str
    consent_url: str
    waiting: list[WaitingUser]
    provider: ProviderName = ProviderName.MICROSOFT
    consented_by: str = ""
    consented_at: datetime | None = None
    """Who recorded the consent and when (kept after a withdrawal: who had granted it)."""


def admin_consent_url(settings: Settings, tenant_id: str, *, state: str | None = None) -> str:
    """The tenant-wide admin consent link (v2.0 ``adminconsent``, every configured permission)."""
    query = {
        "client_id": settings.microsoft_client_id,
        "scope": CONSENT_SCOPE,
        "redirect_uri": oauth.admin_consent_redirect_uri(settings),
    }
    if state:
        query["state"] = state
    return f"{oauth.admin_consent_endpoint(settings, tenant_id)}?{urlencode(query)}"


async def mark_tenant_required(
    session: AsyncSession, firm_id: uuid.UUID, tenant_id: str, *, consented: bool
) -> TenantConsent | None:
    """Record that a tenant needs consent, or (``consented``) that a sign-in there worked
    (only updates a row that exists)."""
    row = await session.scalar(
        select(TenantConsent).where(
            TenantConsent.firm_id == firm_id, TenantConsent.tenant_id == tenant_id
        )
    )
    if consented:
        if row is not None and row.status != "consented":
            row.status, row.consented_at = "consented", utcnow()
        return row
    if row is None:
        row = TenantConsent(id=uuid.uuid4(), firm_id=firm_id, tenant_id=tenant_id)
        session.add(row)
    row.status, row.requested_at = "required", utcnow()
    await session.flush()
    return row


async def start_admin_consent(
    session: AsyncSession, settings: Settings, actor: Actor, tenant_id: str, *, browser_binding: str
) -> str:
    """The consent link with a single-use state for a firm admin who is also the tenant's admin."""
    require_admin(actor, "grant admin consent")
    user = await session.get(User, actor.user_id)
    state = await create_state(
        session,
        firm_id=actor.firm_id,
        user_id=actor.user_id,
        provider=ProviderName.MICROSOFT,
        browser_binding=browser_binding,
        redirect_uri=oauth.admin_consent_redirect_uri(settings),
        purpose="admin_consent",
    )
    await session.commit()
    url = admin_consent_url(settings, tenant_id, state=state.state)
    return f"{url}&{urlencode({'login_hint': user.email})}" if user is not None else url


async def complete_admin_consent(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    params: Mapping[str, str],
    *,
    browser_binding: str,
) -> str:
    """Record the tenant's consent from Microsoft's redirect and tell the case managers waiting
    on it; the message for the admin. Raises ``OAuthRefused`` when it cannot be accepted."""
    require_admin(actor, "grant admin consent")
    state = await consume_state(
        session, params.get("state", ""), browser_binding=browser_binding, purpose="admin_consent"
    )
    if state.user_id != actor.user_id:
        raise OAuthRefused("This consent was started by another user. Start again.")
    if params.get("error") or params.get("admin_consent", "").lower() != "true":
        why = oauth.first_line(params.get("error_description", "")) or params.get("error", "")
        audit.record(
            session,
            actor.firm_id,
            actor.user_id,
            "consent.refused",
            "",
            {"error": params.get("error", "")},
        )
        await session.commit()
        hint = (
            " Only an administrator of the Microsoft 365 organisation can consent."
            if 90093 in oauth.aadsts_codes(why)
            else ""
        )
        raise OAuthRefused(f"Microsoft did not record the consent ({why}).{hint}")
    tenant = params.get("tenant", "").strip().lower()
    if not tenant:
        raise OAuthRefused("Microsoft's answer named no tenant; nothing was recorded.")
    admin = await session.get(User, actor.user_id)
    row = await session.scalar(
        select(TenantConsent).where(
            TenantConsent.firm_id == actor.firm_id, TenantConsent.tenant_id == tenant
        )
    )
    if row is None:
        row = TenantConsent(id=uuid.uuid4(), firm_id=actor.firm_id, tenant_id=tenant)
        session.add(row)
    row.status, row.consented_at = "consented", utcnow()
    row.consented_by = admin.email if admin is not None else ""
    waiting = (
        await session.execute(
            select(Connection, User)
            .join(User, User.id == Connection.user_id)
            .where(
                Connection.firm_id == actor.firm_id,
                Connection.tenant_id == tenant,
                Connection.status == ConnectionStatus.AWAITING_CONSENT,
            )
        )
    ).all()
    for conn, _user in waiting:
        conn.status_reason = READY_REASON
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "consent.granted",
        f"tenant:{tenant}",
        {"waiting": len(waiting)},
    )
    await session.commit()
    for conn, user in waiting:
        link = f"{settings.base_url.rstrip('/')}/calendar-sync/connect/microsoft?modify={conn.id}"
        await send_mail(
            settings,
            user.email,
            "CaseCal: your calendar can now be connected",
            f"Hello {user.name},\n\nYour IT admin approved CaseCal for your organisation. "
            f"Finish connecting your calendar here (Modify):\n\n{link}\n",
        )
    return (
        f"Consent recorded for tenant {tenant}. {len(waiting)} waiting case manager(s) "
        "were told to finish with Modify."
    )


async def consent_panel(
    session: AsyncSession, actor: Actor, settings: Settings | None = None
) -> list[TenantConsentView]:
    """Every tenant the firm has met, its status, its consent link and who is waiting."""
    require_admin(actor, "see admin consents")
    settings = settings or Settings()
    rows = (
        await session.scalars(
            select(TenantConsent)
            .where(TenantConsent.firm_id == actor.firm_id)
            .order_by(TenantConsent.requested_at)
        )
    ).all()
    waiting = (
        await session.execute(
            select(Connection.tenant_id, User.name, User.email)
            .join(User, User.id == Connection.user_id)
            .where(
                Connection.firm_id == actor.firm_id,
                Connection.status == ConnectionStatus.AWAITING_CONSENT,
            )
            .order_by(User.name)
        )
    ).all()
    return [
        TenantConsentView(
            tenant_id=row.tenant_id,
            status=row.status,
            consent_url=admin_consent_url(settings, row.tenant_id),
            waiting=[WaitingUser(n, e) for t, n, e in waiting if t == row.tenant_id],
            provider=row.provider,
            consented_by=row.consented_by,
            consented_at=row.consented_at,
        )
        for row in rows
    ]


WITHDRAWN_REASON = (
    "Your organisation's administrator withdrew CaseCal's access to calendars, so syncing has "
    "stopped. Nothing was deleted. Your IT admin grants consent again with the tenant-wide "
    "consent link; then finish with Modify."
)
_CUT_OFF = (ConnectionStatus.PENDING, ConnectionStatus.AWAITING_APPROVAL)
"""States of a connection that runs no pass, so would not find a withdrawal itself."""


async def consent_lost(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    connection_id: uuid.UUID,
) -> int:
    """A pass found the consent of a connection's organisation gone (Microsoft's token endpoint
    answered AADSTS65001 / consent_required; Google's, for a Workspace domain,
    ``admin_policy_enforced``): the tenant or domain is recorded as needing consent again
    (the panel offers the link), the connection says so in words, the tenant's connections that
    run no pass (waiting for a calendar or an approval) wait for consent too, and its active
    ones are asked for a pass at once, so each finds out in its next pass. Returns how many
    other connections were turned or asked."""
    async with sessionmaker() as session:
        conn = await session.get(Connection, connection_id)
        if conn is None or conn.status is not ConnectionStatus.AWAITING_CONSENT:
            return 0
        if not conn.tenant_id:  # a Google account outside Workspace: its own consent only
            return 0
        if conn.provider not in (ProviderName.MICROSOFT, ProviderName.GOOGLE):
            return 0  # no organisation-wide consent to lose
        firm_id, tenant = conn.firm_id, conn.tenant_id
        row = await session.scalar(
            select(TenantConsent).where(
                TenantConsent.firm_id == firm_id, TenantConsent.tenant_id == tenant
            )
        )
        was = row.status if row is not None else ""
        provider = conn.provider
        if provider is ProviderName.GOOGLE and row is None:
            return 0  # no domain-wide install recorded: the account's own consent is at stake
        await mark_tenant_required(session, firm_id, tenant, consented=False)
        reason = WITHDRAWN_REASON if provider is ProviderName.MICROSOFT else GOOGLE_WAITING_REASON
        conn.status_reason = reason
        same_tenant = (
            Connection.firm_id == firm_id,
            Connection.tenant_id == tenant,
            Connection.provider == provider,
            Connection.id != conn.id,
        )
        turned = await session.execute(
            update(Connection)
            .where(
                *same_tenant,
                Connection.status.in_(_CUT_OFF),
                Connection.refresh_token_enc.is_not(None),
            )
            .values(status=ConnectionStatus.AWAITING_CONSENT, status_reason=reason)
        )
        active = await session.scalars(
            select(Connection.user_id).where(
                *same_tenant, Connection.status == ConnectionStatus.ACTIVE
            )
        )
        users = frozenset(active.all())
        await session.execute(
            update(Connection)
            .where(*same_tenant, Connection.status == ConnectionStatus.ACTIVE)
            .values(sync_requested_at=utcnow())
        )
        note_outbox_users(session, firm_id, users)  # kicked once this commits
        if was == "consented":
            audit.record(session, firm_id, None, "consent.withdrawn", f"tenant:{tenant}",
                         {"connection_id": str(conn.id)})  # fmt: skip
        await session.commit()
        return int(turned.rowcount or 0) + len(users)  # type: ignore[attr-defined]


# -- Google Workspace: the app installed by the domain's admin --------------------------------

GOOGLE_INSTALL = "google_install"
GOOGLE_READY_REASON = (
    "Your Google Workspace admin installed CaseCal for your organisation. Click Modify to "
    "finish connecting your calendar."
)
GOOGLE_WAITING_REASON = (
    "Your Google Workspace administrator blocks CaseCal for your organisation "
    "(admin_policy_enforced). Your firm admin installs it for the whole domain from CaseCal's "
    "Firm settings; then finish with Modify."
)


def google_install_url(settings: Settings, *, state: str = "", login_hint: str = "") -> str:
    """The Workspace admin install of CaseCal for a whole domain, returning to CaseCal."""
    query = {
        "client_id": settings.google_client_id,
        "redirect_uri": oauth.google_install_redirect_uri(settings),
    }
    query |= {"state": state} if state else {}
    query |= {"login_hint": login_hint} if login_hint else {}
    return f"{oauth.google_install_endpoint(settings)}?{urlencode(query)}"


async def installed_domain(session: AsyncSession, firm_id: uuid.UUID, email: str) -> str:
    """The address's Workspace domain when its admin installed CaseCal for the whole domain
    (recorded for this firm), else empty."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return ""
    status = await session.scalar(
        select(TenantConsent.status).where(
            TenantConsent.firm_id == firm_id,
            TenantConsent.provider == ProviderName.GOOGLE,
            TenantConsent.tenant_id == domain,
        )
    )
    return domain if status == "consented" else ""


async def start_google_install(
    session: AsyncSession, settings: Settings, actor: Actor, *, browser_binding: str
) -> str:
    """The install link with a single-use state, for a firm admin who is also their Google
    Workspace domain's super administrator."""
    require_admin(actor, "install CaseCal for the Google Workspace domain")
    user = await session.get(User, actor.user_id)
    state = await create_state(
        session,
        firm_id=actor.firm_id,
        user_id=actor.user_id,
        provider=ProviderName.GOOGLE,
        browser_binding=browser_binding,
        redirect_uri=oauth.google_install_redirect_uri(settings),
        purpose=GOOGLE_INSTALL,
    )
    await session.commit()
    return google_install_url(
        settings, state=state.state, login_hint=user.email if user is not None else ""
    )


async def complete_google_install(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    params: Mapping[str, str],
    *,
    browser_binding: str,
) -> str:
    """Record the domain-wide install from the Marketplace's redirect (per ``hd``) and tell the
    case managers waiting on it; the message for the admin. Raises ``OAuthRefused``."""
    require_admin(actor, "install CaseCal for the Google Workspace domain")
    state = await consume_state(
        session, params.get("state", ""), browser_binding=browser_binding, purpose=GOOGLE_INSTALL
    )
    if state.user_id != actor.user_id:
        raise OAuthRefused("This install was started by another user. Start again.")
    domain = params.get("hd", "").strip().lower()
    if params.get("error") or params.get("installed", "").lower() != "true" or not domain:
        why = params.get("error_description") or params.get("error") or "no domain named"
        audit.record(session, actor.firm_id, actor.user_id, "consent.refused", "",
                     {"provider": "google", "error": params.get("error", "")})  # fmt: skip
        await session.commit()
        raise OAuthRefused(f"Google did not install CaseCal for the domain ({why}).")
    admin = await session.get(User, actor.user_id)
    row = await session.scalar(
        select(TenantConsent).where(
            TenantConsent.firm_id == actor.firm_id, TenantConsent.tenant_id == domain
        )
    )
    if row is not None and row.provider is not ProviderName.GOOGLE:
        raise OAuthRefused(
            f"{domain} is recorded as a Microsoft 365 organisation of your firm; nothing was "
            "recorded for Google."
        )
    if row is None:
        row = TenantConsent(
            id=uuid.uuid4(), firm_id=actor.firm_id, tenant_id=domain, provider=ProviderName.GOOGLE
        )
        session.add(row)
    row.status, row.consented_at = "consented", utcnow()
    row.consented_by = admin.email if admin is not None else ""
    waiting = (
        await session.execute(
            select(Connection, User)
            .join(User, User.id == Connection.user_id)
            .where(
                Connection.firm_id == actor.firm_id,
                Connection.provider == ProviderName.GOOGLE,
                Connection.tenant_id == domain,
                Connection.status == ConnectionStatus.AWAITING_CONSENT,
            )
        )
    ).all()
    for conn, _user in waiting:
        conn.status_reason = GOOGLE_READY_REASON
    audit.record(session, actor.firm_id, actor.user_id, "consent.granted", f"domain:{domain}",
                 {"provider": "google", "waiting": len(waiting)})  # fmt: skip
    await session.commit()
    for conn, user in waiting:
        link = f"{settings.base_url.rstrip('/')}/calendar-sync/connect/google?modify={conn.id}"
        await send_mail(
            settings, user.email, "CaseCal: your calendar can now be connected",
            f"Hello {user.name},\n\nYour Google Workspace admin installed CaseCal for your "
            f"organisation. Finish connecting your calendar here (Modify):\n\n{link}\n",
        )  # fmt: skip
    return (
        f"CaseCal is installed for {domain}. {len(waiting)} waiting case manager(s) were told "
        "to finish with Modify."
    )
