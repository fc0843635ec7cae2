"""sso sign-in: a firm's identity provider, its email domains, bound identities, requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casecal.store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_configs",
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("client_secret_enc", sa.String(length=2000), nullable=False),
        sa.Column("tenant_ids", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("allow_provisioning", sa.Boolean(), nullable=False),
        sa.Column("group_claim", sa.String(length=100), nullable=False),
        sa.Column("require_sso", sa.Boolean(), nullable=False),
        sa.Column("break_glass_user_id", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_sso_configs_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["break_glass_user_id"], ["users.id"],
            name=op.f("fk_sso_configs_break_glass_user_id_users"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_sso_configs_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("firm_id", name=op.f("pk_sso_configs")),
    )  # fmt: skip
    op.create_table(
        "sso_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_sso_domains_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_sso_domains")),
    )  # fmt: skip
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_sso_identities_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("firm_id", "issuer", "subject", name="uq_sso_identities_subject"),
    )  # fmt: skip
    op.create_table(
        "sso_requests",
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("browser_binding", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_sso_requests_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_sso_requests")),
    )  # fmt: skip
    with op.batch_alter_table("sso_domains") as batch:
        batch.create_index(batch.f("ix_sso_domains_firm_id"), ["firm_id"])
    with op.batch_alter_table("sso_identities") as batch:
        batch.create_index(batch.f("ix_sso_identities_firm_id"), ["firm_id"])
        batch.create_index(batch.f("ix_sso_identities_user_id"), ["user_id"])
    with op.batch_alter_table("sso_requests") as batch:
        batch.create_index(batch.f("ix_sso_requests_firm_id"), ["firm_id"])
        batch.create_index(batch.f("ix_sso_requests_expires_at"), ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("sso_requests") as batch:
        batch.drop_index(batch.f("ix_sso_requests_expires_at"))
        batch.drop_index(batch.f("ix_sso_requests_firm_id"))
    with op.batch_alter_table("sso_identities") as batch:
        batch.drop_index(batch.f("ix_sso_identities_user_id"))
        batch.drop_index(batch.f("ix_sso_identities_firm_id"))
    with op.batch_alter_table("sso_domains") as batch:
        batch.drop_index(batch.f("ix_sso_domains_firm_id"))
    op.drop_table("sso_requests")
    op.drop_table("sso_identities")
    op.drop_table("sso_domains")
    op.drop_table("sso_configs")
