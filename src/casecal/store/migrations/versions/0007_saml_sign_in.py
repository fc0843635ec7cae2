"""saml sign-in: a firm's SAML identity provider, requests in flight, assertions used

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from casecal.store.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saml_configs",
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("idp_entity_id", sa.String(length=500), nullable=False),
        sa.Column("metadata_url", sa.String(length=1000), nullable=False),
        sa.Column("metadata_xml", sa.Text(), nullable=False),
        sa.Column("email_attribute", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_saml_configs_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("firm_id", name=op.f("pk_saml_configs")),
    )  # fmt: skip
    op.create_table(
        "saml_requests",
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("browser_binding", sa.String(length=64), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_saml_requests_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_saml_requests")),
    )  # fmt: skip
    op.create_table(
        "saml_assertion_uses",
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("assertion_id", sa.String(length=256), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_saml_assertion_uses_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("firm_id", "assertion_id", name=op.f("pk_saml_assertion_uses")),
    )  # fmt: skip
    with op.batch_alter_table("saml_requests") as batch:
        batch.create_index(batch.f("ix_saml_requests_firm_id"), ["firm_id"])
        batch.create_index(batch.f("ix_saml_requests_expires_at"), ["expires_at"])
    with op.batch_alter_table("saml_assertion_uses") as batch:
        batch.create_index(batch.f("ix_saml_assertion_uses_expires_at"), ["expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("saml_assertion_uses") as batch:
        batch.drop_index(batch.f("ix_saml_assertion_uses_expires_at"))
    with op.batch_alter_table("saml_requests") as batch:
        batch.drop_index(batch.f("ix_saml_requests_expires_at"))
        batch.drop_index(batch.f("ix_saml_requests_firm_id"))
    op.drop_table("saml_assertion_uses")
    op.drop_table("saml_requests")
    op.drop_table("saml_configs")
