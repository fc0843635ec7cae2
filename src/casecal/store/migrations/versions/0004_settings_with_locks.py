"""settings with locks: one table of values set at firm, team and user level

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casecal.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "setting_values",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column(
            "level",
            sa.Enum("firm", "team", "user", name="level", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_setting_values_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_setting_values_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_setting_values_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_setting_values_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_values")),
        sa.UniqueConstraint("firm_id", "level", "scope_id", "key", name="uq_setting_values_scope"),
    )  # fmt: skip
    with op.batch_alter_table("setting_values") as batch:
        batch.create_index(batch.f("ix_setting_values_firm_id"), ["firm_id"])
        batch.create_index(batch.f("ix_setting_values_team_id"), ["team_id"])
        batch.create_index(batch.f("ix_setting_values_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("setting_values") as batch:
        batch.drop_index(batch.f("ix_setting_values_user_id"))
        batch.drop_index(batch.f("ix_setting_values_team_id"))
        batch.drop_index(batch.f("ix_setting_values_firm_id"))
    op.drop_table("setting_values")
