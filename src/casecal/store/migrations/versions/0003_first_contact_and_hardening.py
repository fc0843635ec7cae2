"""first contact and hardening: per-firm emails, viewer zones, shared imports, paused
connections' clean-up, push channel health and replay window, the shared sign-in throttle

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casecal.store.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_email", type_="unique")
        batch.create_unique_constraint("uq_users_firm_email", ["firm_id", "email"])
        batch.create_index("ix_users_email", ["email"], unique=False)
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(
            sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("appointments") as batch:
        batch.alter_column("shared", server_default=None)
    with op.batch_alter_table("connections") as batch:
        batch.add_column(
            sa.Column("cleanup_requested_at", UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("push_channels") as batch:
        batch.add_column(sa.Column("last_valid_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_refused_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_unnumbered_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    with op.batch_alter_table("sign_in_throttle") as batch:
        batch.create_index(batch.f("ix_sign_in_throttle_expires_at"), ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("sign_in_throttle") as batch:
        batch.drop_index(batch.f("ix_sign_in_throttle_expires_at"))
    op.drop_table("sign_in_throttle")
    with op.batch_alter_table("push_channels") as batch:
        batch.drop_column("last_unnumbered_at")
        batch.drop_column("last_refused_at")
        batch.drop_column("last_valid_at")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("cleanup_requested_at")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("shared")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
        batch.drop_index("ix_users_email")
        batch.drop_constraint("uq_users_firm_email", type_="unique")
        batch.create_unique_constraint("uq_users_email", ["email"])
