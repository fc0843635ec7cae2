"""SAML 2.0 sign-in: a firm's identity provider (its metadata), the authentication requests in
flight (single use, browser-bound), and the assertions already used (kept until they expire, so
that a replayed one is refused).

The firm-wide switches (enabled, provisioning, require-SSO, break-glass) and the email domains
stay in ``sso_configs`` (kind ``saml``) and ``sso_domains``: SAML is one more kind of SSO."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casecal.store.tables import Base
from casecal.store.tables.base import utcnow


class SamlConfig(Base):
    """One firm's SAML identity provider: its metadata as the admin gave it (pasted XML, or
    read from ``metadata_url``) and the entity id read from it."""

    __tablename__ = "saml_configs"

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    idp_entity_id: Mapped[str] = mapped_column(String(500))
    metadata_url: Mapped[str] = mapped_column(String(1000), default="")
    metadata_xml: Mapped[str] = mapped_column(Text)
    email_attribute: Mapped[str] = mapped_column(String(200), default="")
    """An attribute carrying the address when the NameID is not in email format."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SamlRequest(Base):
    """One AuthnRequest CaseCal issued: its ID is the InResponseTo the answer must carry.
    Single use, bound to the browser that started it, expiring after 10 minutes."""

    __tablename__ = "saml_requests"

    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    browser_binding: Mapped[str] = mapped_column(String(64))
    next_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SamlAssertionUse(Base):
    """An assertion already accepted, kept until its NotOnOrAfter: a second use is refused."""

    __tablename__ = "saml_assertion_uses"

    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    assertion_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
