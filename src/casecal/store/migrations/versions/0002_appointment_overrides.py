"""appointment overrides: occurrences of a series changed on their own

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("overrides", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("appointments") as batch:
        batch.alter_column("overrides", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("overrides")
