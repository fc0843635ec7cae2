"""Connecting a case manager's calendar: start (a pending connection and an OAuth state),
complete (state, code exchange with PKCE, id_token, granted scopes, the identity guard, the
Microsoft admin-consent answer, encrypted tokens), the writable calendars, activation and
disconnection. Every outcome is audit-logged; a refusal stores no token."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth import oauth
from casecal.auth.encryption import TokenCipher
from casecal.auth.idtoken import (
    AccountClaims,
    IdTokenInvalid,
    account_claims,
    discovery_document,
    validate_id_token,
)
from casecal.auth.states import OAuthRefused, consume_state, create_state
from casecal.config import Settings
from casecal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from casecal.providers.base import CalendarInfo, Provider
from casecal.providers.errors import ProviderError
from casecal.providers.tokens import TokenSet
from casecal.services import approvals, audit, consents
from casecal.services.access import Actor
from casecal.services.consents import admin_consent_url, mark_tenant_required
from casecal.store.tables import (
    Backfill,
    Connection,
    ConnectionStatus,
    IdentityAlias,
    ProviderName,
    Seat,
    Subscription,
    SubscriptionStatus,
    User,
    utcnow,
)
from casecal.sync.connector import ConnectionProviders
from casecal.sync.settings_query import effective_for

LABELS = {
    ProviderName.GOOGLE: "Google",
    ProviderName.MICROSOFT: "Microsoft",
    ProviderName.CALDAV: "CalDAV",
}
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_BUSY = (
    ConnectionStatus.ACTIVE,
    ConnectionStatus.PAUSED_DELETIONS,
    ConnectionStatus.NEEDS_REAUTH,
    ConnectionStatus.AWAITING_APPROVAL,
)


ConnectOutcomeKind = Literal[
    "choose_calendar", "awaiting_consent", "identity_mismatch", "scope_missing", "refused"
]
"""How an authorisation ended: the account is connected and a calendar is to be chosen; the
tenant (or Workspace domain) awaits its admin's consent; the account is not the signed-in
person's; a scope was left unticked; or it was refused for another reason."""


@dataclass(frozen=True)
class ConnectOutcome:
    kind: ConnectOutcomeKind
    connection_id: uuid.UUID | None
    message: str
    consent_url: str | None = None
    account_email: str = ""


async def _user(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id)
    if user is None or user.firm_id != actor.firm_id or not user.is_active:
        raise PermissionDenied("your account is not active")
    return user


async def _require_seat(session: AsyncSession, actor: Actor) -> None:
    seat = await session.scalar(
        select(Seat.id)
        .join(Subscription, Subscription.id == Seat.subscription_id)
        .where(
            Seat.firm_id == actor.firm_id,
            Seat.user_id == actor.user_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
    )
    if seat is None:
        raise PermissionDenied(
            "Calendar Sync is not enabled for you: ask your firm admin to add you to the "
            "Calendar Sync subscription"
        )


async def allowed_providers(session: AsyncSession, actor: Actor) -> tuple[ProviderName, ...]:
    """The providers the signed-in user may connect (``providers.allowed`` in force for them:
    the firm's, their team's or their own), in the catalogue's order."""
    allowed = (await effective_for(session, actor.firm_id, actor.user_id)).providers_allowed()
    return tuple(p for p in ProviderName if p.value in allowed)


async def _require_allowed(session: AsyncSession, actor: Actor, provider: ProviderName) -> None:
    allowed = await allowed_providers(session, actor)
    if provider in allowed:
        return
    others = " or ".join(LABELS[p] for p in allowed)
    raise PermissionDenied(
        f"Your firm does not allow {LABELS[provider]} calendars to be connected"
        + (f": connect a {others} calendar instead" if others else "; ask your firm admin")
    )


async def _connection(
    session: AsyncSession, actor: Actor, connection_id: uuid.UUID, *, own: bool = False
) -> Connection:
    row = await session.get(Connection, connection_id)
    if row is None or row.firm_id != actor.firm_id:
        raise NotFound("no such connection")
    if row.user_id != actor.user_id and (own or not actor.is_admin):
        raise NotFound("no such connection")
    return row


async def start_connect(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    provider: ProviderName,
    *,
    browser_binding: str,
    connection_id: uuid.UUID | None = None,
    http: httpx.AsyncClient | None = None,
) -> str:
    """The provider's authorize URL for the signed-in case manager (commits the pending
    connection, if new, and the OAuth state). With ``http``, the authorize endpoint is the one
    the provider's discovery document names; without it, the conventional one. A provider
    the user's settings do not allow (``providers.allowed``) is refused, re-authorisation
    included."""
    user = await _user(session, actor)
    await _require_seat(session, actor)
    await _require_allowed(session, actor, provider)
    if connection_id is not None:
        conn = await _connection(session, actor, connection_id, own=True)
        if conn.provider is not provider or conn.status is ConnectionStatus.DISCONNECTED:
            raise Conflict("this connection cannot be re-authorised: connect a new calendar")
    else:
        mine = (
            await session.scalars(
                select(Connection).where(
                    Connection.user_id == actor.user_id,
                    Connection.status != ConnectionStatus.DISCONNECTED,
                )
            )
        ).all()
        if any(c.status in _BUSY for c in mine):
            raise Conflict("you already have a connected calendar: use Modify or Disconnect")
        reusable = [c for c in mine if c.provider is provider]
        conn = (
            reusable[0]
            if reusable
            else Connection(
                id=uuid.uuid4(),
                firm_id=actor.firm_id,
                user_id=actor.user_id,
                provider=provider,
                status=ConnectionStatus.PENDING,
            )
        )
        session.add(conn)
        await session.flush()
    state = await create_state(
        session,
        firm_id=actor.firm_id,
        user_id=actor.user_id,
        provider=provider,
        browser_binding=browser_binding,
        redirect_uri=oauth.redirect_uri(settings, provider),
        connection_id=conn.id,
    )
    authorize = (
        (await oauth.endpoints(http, settings, provider, conn.tenant_id)).authorize
        if http is not None
        else None
    )
    hint = conn.account_email or user.email
    installed = (
        await consents.installed_domain(session, actor.firm_id, hint)
        if provider is ProviderName.GOOGLE
        else ""
    )
    url = oauth.authorization_url(
        settings,
        provider,
        authorize=authorize,
        state=state.state,
        code_verifier=state.code_verifier,
        nonce=state.nonce,
        login_hint=hint,
        tenant=conn.tenant_id if provider is ProviderName.MICROSOFT else None,
        installed_for=installed,
    )
    await session.commit()
    return url


async def complete_connect(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    actor: Actor,
    provider: ProviderName,
    params: Mapping[str, str],
    *,
    browser_binding: str,
) -> ConnectOutcome:
    """Finish an authorisation from the provider's redirect (see the module docstring)."""
    try:
        state = await consume_state(
            session, params.get("state", ""), browser_binding=browser_binding, purpose="connect"
        )
    except OAuthRefused as exc:
        return ConnectOutcome("refused", None, exc.detail)
    conn = await session.get(Connection, state.connection_id) if state.connection_id else None
    if (
        state.provider is not provider
        or state.user_id != actor.user_id
        or conn is None
        or conn.firm_id != actor.firm_id
    ):
        return ConnectOutcome(
            "refused",
            None,
            "This sign-in belongs to another user or provider. Start again from Calendar Sync.",
        )
    user = await _user(session, actor)
    label = LABELS[provider]
    if "error" in params:
        if provider is ProviderName.MICROSOFT and oauth.needs_admin_consent(dict(params)):
            return await _awaiting_consent(session, settings, http, actor, conn, user)
        if provider is ProviderName.GOOGLE and params["error"] == "admin_policy_enforced":
            return await _awaiting_google_install(session, actor, conn, user)
        why = oauth.first_line(params.get("error_description", "")) or params["error"]
        return await _refuse(
            session,
            actor,
            conn,
            "refused",
            f"{label} did not authorise CaseCal ({why}). Nothing was connected.",
        )
    try:
        token = await oauth.exchange_code(
            http,
            settings,
            provider,
            code=params.get("code", ""),
            code_verifier=state.code_verifier,
            tenant=conn.tenant_id,
        )
        client_id, _ = oauth.client_credentials(settings, provider)
        claims = await validate_id_token(
            http,
            str(token.get("id_token", "")),
            client_id=client_id,
            nonce=state.nonce,
            discovery_url=oauth.discovery_url(settings, provider, conn.tenant_id),
        )
    except oauth.TokenExchangeFailed as exc:
        if provider is ProviderName.MICROSOFT and (
            oauth.aadsts_codes(exc.description) & oauth.ADMIN_CONSENT_CODES
        ):
            return await _awaiting_consent(session, settings, http, actor, conn, user)
        return await _refuse(
            session,
            actor,
            conn,
            "refused",
            f"{label} refused to complete the sign-in ({exc}). Nothing was connected; start again.",
        )
    except IdTokenInvalid as exc:
        return await _refuse(
            session,
            actor,
            conn,
            "refused",
            "The sign-in answer failed "
            f"CaseCal's security check ({exc.reason}). Nothing was connected.",
        )
    identity = await _with_verified_domain(http, settings, account_claims(provider, claims))
    if provider is ProviderName.GOOGLE:  # a Workspace account's domain: its admin's install
        conn.tenant_id = str(claims.get("hd") or "").lower()[:64] or conn.tenant_id
    if provider is ProviderName.GOOGLE:
        missing = oauth.missing_google_scopes(settings, str(token.get("scope", "")))
        if missing:
            return await _refuse(
                session,
                actor,
                conn,
                "scope_missing",
                "Google connected your account without access to your calendars (the calendar "
                "boxes were unticked on Google's consent screen), so nothing was connected. "
                "Connect again and leave the calendar permissions ticked. Missing: "
                + ", ".join(missing),
                identity.email,
            )
    mismatch = await check_identity(session, actor, user, conn, identity)
    if mismatch:
        return await _refuse(session, actor, conn, "identity_mismatch", mismatch, identity.email)
    return await _store(session, settings, actor, conn, token, identity)


async def _store(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    conn: Connection,
    token: dict[str, Any],
    identity: AccountClaims,
) -> ConnectOutcome:
    refresh = str(token.get("refresh_token") or "")
    if not refresh and not conn.refresh_token_enc:
        return await _refuse(
            session,
            actor,
            conn,
            "refused",
            "The provider granted no offline "
            "access, so CaseCal could not keep the calendar in sync.",
        )
    cipher = TokenCipher.from_settings(settings)
    now = utcnow()
    if refresh:
        conn.refresh_token_enc = cipher.encrypt(refresh)
    conn.access_token_enc = cipher.encrypt(str(token["access_token"]))
    conn.access_token_expires_at = now + timedelta(seconds=float(token.get("expires_in", 3600)))
    conn.scopes = str(token.get("scope", ""))
    conn.account_email, conn.account_subject = identity.email, identity.subject
    if identity.tenant_id:
        conn.tenant_id = identity.tenant_id
    reauthorised = conn.calendar_id is not None and conn.activated_at is not None
    waiting = conn.status is ConnectionStatus.AWAITING_APPROVAL  # re-authorised while it waits
    if not waiting:
        conn.status = ConnectionStatus.ACTIVE if reauthorised else ConnectionStatus.PENDING
        conn.status_reason = ""
    conn.consecutive_failures, conn.backoff_until = 0, None
    conn.last_authorized_at = now
    if reauthorised:
        conn.sync_requested_at = now
    if identity.tenant_id:
        await mark_tenant_required(session, actor.firm_id, identity.tenant_id, consented=True)
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.authorized",
        f"connection:{conn.id}",
        {
            "provider": conn.provider.value,
            "account_email": identity.email,
            "tenant_id": identity.tenant_id,
            "reauthorised": reauthorised,
        },
    )
    await session.commit()
    message = (
        "Re-authorised: syncing resumes."
        if reauthorised
        else f"Connected {identity.email}. Choose the calendar to keep in sync."
    )
    return ConnectOutcome("choose_calendar", conn.id, message, None, identity.email)


async def _refuse(
    session: AsyncSession,
    actor: Actor,
    conn: Connection,
    kind: ConnectOutcomeKind,
    message: str,
    account_email: str = "",
) -> ConnectOutcome:
    """Record the refusal; a connection that was never authorised is removed again."""
    never = conn.status is ConnectionStatus.PENDING and conn.refresh_token_enc is None
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.refused",
        f"connection:{conn.id}",
        {"provider": conn.provider.value, "kind": kind, "account_email": account_email},
    )
    if never:
        await session.delete(conn)
    await session.commit()
    return ConnectOutcome(kind, None if never else conn.id, message, None, account_email)


async def _awaiting_consent(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    actor: Actor,
    conn: Connection,
    user: User,
) -> ConnectOutcome:
    tenant = conn.tenant_id or await resolve_tenant(http, settings, user.email.rsplit("@")[-1])
    conn.tenant_id = tenant
    conn.status = ConnectionStatus.AWAITING_CONSENT
    url = admin_consent_url(settings, tenant)
    conn.status_reason = (
        "Your organisation requires an administrator to approve CaseCal before it can use "
        "your calendar. Waiting for your IT admin's consent."
    )
    await mark_tenant_required(session, actor.firm_id, tenant, consented=False)
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "consent.required",
        f"tenant:{tenant}",
        {"connection_id": str(conn.id)},
    )
    await session.commit()
    message = (
        "Approval required: your organisation lets only an administrator approve CaseCal's "
        "access to calendars. Send your IT admin this tenant-wide consent link: " + url + " . "
        "If your organisation uses the admin consent workflow, use 'Request approval' on the "
        "Microsoft page instead. Once approved you will be told here and by email; then "
        "click Modify to finish, without needing IT again."
    )
    return ConnectOutcome("awaiting_consent", conn.id, message, url, user.email)


async def _awaiting_google_install(
    session: AsyncSession, actor: Actor, conn: Connection, user: User
) -> ConnectOutcome:
    """Google answered ``admin_policy_enforced``: the Workspace admin blocks CaseCal until
    they install it for the domain (from CaseCal's Firm settings)."""
    domain = user.email.rpartition("@")[2].lower()
    conn.tenant_id = conn.tenant_id or domain[:64]
    conn.status = ConnectionStatus.AWAITING_CONSENT
    conn.status_reason = consents.GOOGLE_WAITING_REASON
    audit.record(session, actor.firm_id, actor.user_id, "consent.required", f"domain:{domain}",
                 {"connection_id": str(conn.id), "provider": "google"})  # fmt: skip
    await session.commit()
    return ConnectOutcome("awaiting_consent", conn.id, consents.GOOGLE_WAITING_REASON, None,
                          user.email)  # fmt: skip


async def resolve_tenant(http: httpx.AsyncClient, settings: Settings, domain: str) -> str:
    """The tenant id of a verified domain, from its discovery document (the domain itself when
    that cannot be read)."""
    url = oauth.discovery_url(settings, ProviderName.MICROSOFT, domain)
    try:
        found = _GUID.search(str((await discovery_document(http, url)).get("issuer", "")))
    except IdTokenInvalid:
        found = None
    return found.group(0).lower() if found else domain


async def _adapter(
    settings: Settings, http: httpx.AsyncClient, conn: Connection, cipher: TokenCipher
) -> Provider:
    """The connection's adapter from the one factory (the shared client's: the same tokens,
    endpoints and budgets as the engine's); refreshed tokens stay on the row in this session."""

    async def keep(tokens: TokenSet) -> None:
        conn.refresh_token_enc = cipher.encrypt(tokens.refresh_token)
        conn.access_token_enc = cipher.encrypt(tokens.access_token)
        conn.access_token_expires_at = datetime.fromtimestamp(tokens.expires_at, UTC)

    factory = ConnectionProviders.of(settings, http)
    return await factory.adapter(conn, on_refresh=keep, invite_kinds=frozenset())


async def writable_calendars(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    actor: Actor,
    connection_id: uuid.UUID,
) -> list[CalendarInfo]:
    """The calendars of the authorised account the connection may write to, primary first."""
    conn = await _connection(session, actor, connection_id)
    if not conn.refresh_token_enc:
        raise Conflict("this connection is not authorised yet")
    try:
        adapter = await _adapter(settings, http, conn, TokenCipher.from_settings(settings))
        found = await adapter.list_calendars(writable_only=True)
    except ProviderError as exc:
        raise Conflict(
            f"the calendars could not be read ({type(exc).__name__}): try Modify to re-authorise"
        ) from exc
    await session.commit()
    return sorted(found, key=lambda c: (not c.primary, c.name.lower()))


async def activate(
    session: AsyncSession,
    actor: Actor,
    connection_id: uuid.UUID,
    *,
    calendar_id: str,
    calendar_name: str,
    step_reminders: bool,
    backfill: Backfill,
) -> Connection:
    """Start syncing the chosen calendar (the seat is checked again: it may have been removed
    while the account was being authorised). When ``connections.require_approval`` is in force
    for the case manager and the connection was never approved, it waits as
    ``awaiting_approval`` instead (``services.approvals``)."""
    conn = await _connection(session, actor, connection_id, own=True)
    await _require_seat(session, actor)
    if not conn.refresh_token_enc or conn.status not in (
        ConnectionStatus.PENDING,
        ConnectionStatus.ACTIVE,
        ConnectionStatus.AWAITING_APPROVAL,
    ):
        raise Conflict(f"the connection is {conn.status.value}: authorise it first")
    if not calendar_id.strip():
        raise ValidationFailed("choose a calendar", field="calendar_id")
    now = utcnow()
    conn.calendar_id, conn.calendar_name = calendar_id, calendar_name.strip()[:300]
    conn.step_reminders, conn.backfill = step_reminders, backfill
    conn.status, conn.status_reason = ConnectionStatus.ACTIVE, ""
    conn.sync_requested_at = now
    if not await approvals.hold(session, actor, conn):  # waits when the firm asks for it
        conn.activated_at = conn.activated_at or now
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.activated",
        f"connection:{conn.id}",
        {
            "calendar_name": conn.calendar_name,
            "step_reminders": step_reminders,
            "backfill": backfill.value,
        },
    )
    await session.commit()
    return conn


async def disconnect(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    actor: Actor,
    connection_id: uuid.UUID,
) -> None:
    """Revoke the grant where the provider allows it (Google), wipe the tokens, stop syncing."""
    conn = await _connection(session, actor, connection_id)
    revoked = False
    if conn.provider is ProviderName.GOOGLE and conn.refresh_token_enc:
        token = TokenCipher.from_settings(settings).decrypt(conn.refresh_token_enc)
        url = (await oauth.endpoints(http, settings, conn.provider)).revocation
        try:
            revoked = (
                url is not None and (await http.post(url, data={"token": token})).status_code == 200
            )
        except httpx.HTTPError:
            revoked = False
    conn.refresh_token_enc = conn.access_token_enc = conn.access_token_expires_at = None
    conn.status = ConnectionStatus.DISCONNECTED
    conn.status_reason = "Disconnected."
    audit.record(
        session,
        actor.firm_id,
        actor.user_id,
        "connection.disconnected",
        f"connection:{conn.id}",
        {"provider": conn.provider.value, "revoked_at_provider": revoked},
    )
    await session.commit()


async def _with_verified_domain(
    http: httpx.AsyncClient, settings: Settings, who: AccountClaims
) -> AccountClaims:
    """A Microsoft ``email`` claim without ``xms_edov`` counts when the token's own tenant has
    verified its domain: the domain's discovery document names that tenant (Microsoft's
    record of who owns the domain, which another tenant cannot claim)."""
    if not who.domain_to_check or not who.tenant_id:
        return who
    if await resolve_tenant(http, settings, who.domain_to_check) != who.tenant_id:
        return who
    return replace(who, email_verified=True, domain_to_check="")


async def _email_allowed(
    session: AsyncSession, actor: Actor, user: User, conn: Connection, who: AccountClaims
) -> bool:
    """The verified email is the case manager's own, or an alias a firm admin allowed."""
    if not who.email_verified or not who.email:
        return False
    if who.email == user.email.lower():
        return True
    alias = await session.scalar(
        select(IdentityAlias.id).where(
            IdentityAlias.firm_id == actor.firm_id,
            IdentityAlias.user_id == user.id,
            IdentityAlias.provider == conn.provider,
            func.lower(IdentityAlias.account_email) == who.email,
        )
    )
    return alias is not None


async def check_identity(
    session: AsyncSession, actor: Actor, user: User, conn: Connection, who: AccountClaims
) -> str:
    """Empty when the authorised account is the case manager's own, else the explanation.
    Once a connection is bound, the account is its Google ``sub`` / Microsoft ``oid`` + ``tid``
    (whatever its address is now); before, a verified email must be theirs (or an alias a firm
    admin allowed)."""
    label = LABELS[conn.provider]
    microsoft = conn.provider is ProviderName.MICROSOFT
    if not who.subject or (microsoft and not who.tenant_id):
        return (
            f"{label}'s answer did not name the account that signed in, so nothing was "
            "connected. Connect again."
        )
    if conn.account_subject:
        same_tenant = not microsoft or conn.tenant_id == who.tenant_id
        if conn.account_subject == who.subject and same_tenant:
            return ""
        return (
            f"This connection belongs to the {label} account {conn.account_email}, but you "
            f"signed in as a different account ({who.email or 'with no address'}). Nothing was "
            f"changed. Sign in as {conn.account_email}, or Disconnect and connect the other "
            "account."
        )
    if await _email_allowed(session, actor, user, conn, who):
        return ""
    if who.email and not who.email_verified:
        return (
            f"{label} did not confirm that {who.email} belongs to the account that signed in "
            "(the address is not verified), so nothing was connected and CaseCal kept no "
            f"access. Sign in with your {label} account {user.email}."
        )
    other = await session.scalar(
        select(User).where(User.firm_id == actor.firm_id, func.lower(User.email) == who.email)
    )
    whose = (
        f"{other.name}'s {label} account ({who.email})"
        if other is not None
        else f"the {label} account {who.email or '(no email)'}"
    )
    return (
        f"That sign-in used {whose}, not your own ({user.email}), so nothing was connected and "
        f"CaseCal kept no access to that calendar. Sign out of {label} in this browser (or use "
        f"a private window), click Connect again and sign in as {user.email}. If {who.email} "
        "really is your calendar, ask your firm admin to allow it as an alias for you."
    )
