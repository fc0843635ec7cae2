"""Single sign-on: a firm's identity provider, the email domains that lead to it, the provider
identities bound to users, and the sign-in requests in flight (single use, browser-bound)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casecal.store.tables import Base
from casecal.store.tables.base import new_id, utcnow


class SsoConfig(Base):
    """One firm's identity provider. ``kind`` is ``entra``, ``google`` or ``oidc``; the client
    secret is stored only encrypted (``TokenCipher``, like refresh tokens)."""

    __tablename__ = "sso_configs"

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(500), default="")
    """The issuer URL of a generic OIDC provider (Entra ID's and Google's come from settings)."""
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret_enc: Mapped[str] = mapped_column(String(2000), default="")
    tenant_ids: Mapped[list[Any]] = mapped_column(default=list)
    """Entra ID: the only ``tid`` values accepted."""
    enabled: Mapped[bool] = mapped_column(default=False)
    allow_provisioning: Mapped[bool] = mapped_column(default=False)
    group_claim: Mapped[str] = mapped_column(String(100), default="")
    """The id_token claim whose value (or one of whose values) names the team of a new user."""
    require_sso: Mapped[bool] = mapped_column(default=False)
    break_glass_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    """The one admin still allowed a local password when ``require_sso`` is on."""
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoDomain(Base):
    """An email domain whose users sign in through a firm's identity provider (Google
    Workspace: also the ``hd`` values accepted). A domain leads to one firm only."""

    __tablename__ = "sso_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )


class SsoIdentity(Base):
    """A provider identity bound to a user at their first SSO sign-in: (``issuer``,
    ``subject``), where Entra ID's issuer key carries the ``tid`` and its subject is the
    ``oid``. Once bound, the identity, not the address, says who signs in."""

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("firm_id", "issuer", "subject", name="uq_sso_identities_subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SsoRequest(Base):
    """One SSO sign-in in flight: single use, bound to the browser that started it (SHA-256
    of a pre-sign-in cookie), expiring after 10 minutes. Verifier and nonce stay here."""

    __tablename__ = "sso_requests"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    browser_binding: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
