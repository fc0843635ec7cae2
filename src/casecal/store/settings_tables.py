"""The stored setting values: one row per firm, level, scope and key, with its lock.

``scope_id`` is the firm's, the team's or the user's id by level, so the unique key has no NULL
in it (NULLs never collide in a unique index); ``team_id``/``user_id`` repeat it with a foreign
key, so a deleted team or user takes its values along.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casecal.domain.settings_catalog import Level
from casecal.store.tables import Base

LEVEL_TYPE = Enum(
    Level,
    native_enum=False,
    create_constraint=False,
    length=32,
    values_callable=lambda members: [m.value for m in members],
)


def _now() -> datetime:
    return datetime.now(UTC)


class SettingValue(Base):
    """A value set at one level; ``locked`` binds every level below (firm and team only)."""

    __tablename__ = "setting_values"
    __table_args__ = (
        UniqueConstraint("firm_id", "level", "scope_id", "key", name="uq_setting_values_scope"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    firm_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[Level] = mapped_column(LEVEL_TYPE)
    scope_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON())
    locked: Mapped[bool] = mapped_column(default=False)
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(default=_now)
