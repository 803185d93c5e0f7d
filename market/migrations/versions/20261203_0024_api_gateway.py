"""the API gateway: upstreams of API products, usage by day, reserved calls and quota periods

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-03 09:00:00

An API product's upstream (its secret sealed, market.gateway.sealing) and each licence's calls by
day. Entitlements learn the calls gateway processes hold in reserve and, for a subscription, the
period their quota renews on; existing entitlements have none reserved and one quota over their
term.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entitlements") as batch:
        batch.add_column(
            sa.Column("calls_reserved", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("quota_period", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("period_index", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.create_table(
        "gateway_upstreams",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("auth_header", sa.String(length=100), nullable=True),
        sa.Column("sealed_secret", sa.Text(), nullable=True),
        sa.Column(
            "allowed_methods",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "allowed_path_prefixes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("count_failed_calls", sa.Boolean(), nullable=False),
        sa.Column("rate_limit", sa.String(length=40), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_gateway_upstreams_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_upstreams")),
        sa.UniqueConstraint("product_id", name=op.f("uq_gateway_upstreams_product_id")),
    )
    op.create_table(
        "gateway_usage_days",
        sa.Column("licence_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("failed_calls", sa.Integer(), nullable=False),
        sa.Column("summarised_calls", sa.Integer(), nullable=False),
        sa.Column("summarised_failed_calls", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"], ["licences.id"], name=op.f("fk_gateway_usage_days_licence_id_licences")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_usage_days")),
        sa.UniqueConstraint("licence_id", "day", name=op.f("uq_gateway_usage_days_licence_id_day")),
    )


def downgrade() -> None:
    op.drop_table("gateway_usage_days")
    op.drop_table("gateway_upstreams")
    with op.batch_alter_table("entitlements") as batch:
        batch.drop_column("period_index")
        batch.drop_column("quota_period")
        batch.drop_column("calls_reserved")
