"""appointment overrides and their sync state: occurrences of a series changed on their own

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
    for table, column, empty in (("appointments", "overrides", "[]"),
                                 ("links", "occurrences", "{}")):  # fmt: skip
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.JSON(), nullable=False, server_default=empty))
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("occurrences")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("overrides")
