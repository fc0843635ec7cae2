"""Sign-in and authorisation: OAuth requests in flight, browser sessions, Microsoft tenant
consents, approved identity aliases and the shared sign-in throttle."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casecal.store.tables.base import Base, ProviderName, new_id, stored_enum, utcnow


class OAuthState(Base):
    """One authorisation request in flight: single-use, bound to the browser session that
    started it, expiring after 10 minutes. The PKCE verifier and nonce never leave the server."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[ProviderName] = mapped_column(stored_enum(ProviderName))
    purpose: Mapped[str] = mapped_column(String(32), default="connect")
    """``connect`` (a case manager's calendar) or ``admin_consent`` (a Microsoft tenant)."""
    browser_binding: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the signed-in browser session the request belongs to."""
    code_verifier: Mapped[str] = mapped_column(String(128), default="")
    nonce: Mapped[str] = mapped_column(String(128), default="")
    redirect_uri: Mapped[str] = mapped_column(String(500))
    connection_id: Mapped[uuid.UUID | None]
    """The connection being re-authorised (Modify), if any."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class TenantConsent(Base):
    """A Microsoft tenant's admin consent for CaseCal, as known to one firm."""

    __tablename__ = "tenant_consents"
    __table_args__ = (UniqueConstraint("firm_id", "tenant_id", name="uq_tenant_consents_tenant"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    """Microsoft: the tenant id. Google: the Workspace domain (``hd``)."""
    provider: Mapped[ProviderName] = mapped_column(
        stored_enum(ProviderName), default=ProviderName.MICROSOFT
    )
    """``microsoft``: the tenant-wide admin consent; ``google``: the admin-installed app."""
    status: Mapped[str] = mapped_column(String(16), default="required")
    """``required`` (a case manager hit AADSTS90094/65001), ``consented``, or ``withdrawn``
    (a pass found the consent gone)."""
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    consented_at: Mapped[datetime | None]
    consented_by: Mapped[str] = mapped_column(String(320), default="")


class IdentityAlias(Base):
    """An admin-approved external account for a case manager whose provider identity does not
    match their CaseCal email (the identity guard accepts it)."""

    __tablename__ = "identity_aliases"
    __table_args__ = (
        UniqueConstraint("firm_id", "provider", "account_email", name="uq_identity_aliases"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[ProviderName] = mapped_column(stored_enum(ProviderName))
    account_email: Mapped[str] = mapped_column(String(320))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInThrottle(Base):
    """Failed sign-in counters shared by every process: one row per key (an email, an email
    seen from a trusted device, a client address), each expiring on its own."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    """SHA-256 of the throttled subject (``email:``, ``device:``, ``addr:`` prefixes)."""
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
