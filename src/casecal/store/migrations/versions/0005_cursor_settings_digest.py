"""cursor settings digest: the settings a connection's calendar was last shaped with

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_cursors") as batch:
        batch.add_column(
            sa.Column("settings_digest", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("sync_cursors") as batch:
        batch.alter_column("settings_digest", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sync_cursors") as batch:
        batch.drop_column("settings_digest")
