"""consent and approval: the admin's approval of each connection, the team admins who may give
it for their team, and whose consent a tenant_consents row records (a Microsoft tenant or a
Google Workspace domain)

``connections.status`` is a VARCHAR (``stored_enum``), so its new value ``awaiting_approval``
needs no change of type.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casecal.store.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection_approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_connection_approvals_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"],
            name=op.f("fk_connection_approvals_connection_id_connections"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_connection_approvals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_connection_approvals_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_approvals")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_connection_approvals_connection_id")),
    )  # fmt: skip
    with op.batch_alter_table("connection_approvals") as batch:
        batch.create_index(batch.f("ix_connection_approvals_firm_id"), ["firm_id"])
    op.create_table(
        "team_admins",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_admins_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_team_admins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_team_admins_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_admins")),
    )  # fmt: skip
    with op.batch_alter_table("team_admins") as batch:
        batch.create_index(batch.f("ix_team_admins_firm_id"), ["firm_id"])
    with op.batch_alter_table("tenant_consents") as batch:
        batch.add_column(
            sa.Column(
                "provider",
                sa.Enum("google", "microsoft", name="providername", native_enum=False, length=32),
                nullable=False,
                server_default="microsoft",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_consents") as batch:
        batch.drop_column("provider")
    with op.batch_alter_table("team_admins") as batch:
        batch.drop_index(batch.f("ix_team_admins_firm_id"))
    op.drop_table("team_admins")
    with op.batch_alter_table("connection_approvals") as batch:
        batch.drop_index(batch.f("ix_connection_approvals_firm_id"))
    op.drop_table("connection_approvals")
