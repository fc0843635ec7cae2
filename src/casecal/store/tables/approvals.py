"""A firm's approval of one calendar connection (``connections.require_approval``): the case
manager's authorisation is kept, but nothing syncs until a firm or team admin decides."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casecal.store.tables.base import Base, new_id, utcnow


class ConnectionApproval(Base):
    """One connection's approval: waiting (``decision`` empty), ``approved`` or ``declined``.
    One row per connection; an approved connection re-authorised later does not wait again."""

    __tablename__ = "connection_approvals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str] = mapped_column(String(16), default="")
    """Empty while it waits, then ``approved`` or ``declined``."""
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    """The admin's reason for declining, shown to the case manager."""


class TeamAdmin(Base):
    """A person a firm admin named to administer one team: they see and decide the approvals
    of that team's members (and nothing of another team)."""

    __tablename__ = "team_admins"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
