"""regulated pricing: accumulation windows, classes bound to resources, the exchange's random
allocation draws, revenue caps (issue 20)

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-03 10:00:00

Quotes and orders keep the accumulation window they were priced in; `window_usage` counts a
counterparty's units per window (国办函〔2020〕109号 Art. 4).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quotes") as batch:
        batch.add_column(sa.Column("window_scope", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("window_key", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("window_prior_units", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("window_units", sa.Integer(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("window_scope", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("window_key", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("window_units", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("allocation_draw_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("data_resources") as batch:
        batch.add_column(sa.Column("price_catalogue_class", sa.String(length=80), nullable=True))
    op.create_table(
        "window_usage",
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("counterparty_id", sa.Uuid(), nullable=False),
        sa.Column("window_key", sa.String(length=20), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["participants.id"],
            name=op.f("fk_window_usage_counterparty_id_participants"),
        ),
        sa.PrimaryKeyConstraint("scope", "counterparty_id", "window_key", name=op.f("pk_window_usage")),
    )
    op.create_table(
        "allocation_draws",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=500), nullable=False),
        sa.Column("winners_wanted", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("announcement", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("announced_by", sa.String(length=80), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_allocation_draws_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_draws")),
    )
    op.create_index(op.f("ix_allocation_draws_product_id"), "allocation_draws", ["product_id"])
    op.create_index(op.f("ix_allocation_draws_closes_at"), "allocation_draws", ["closes_at"])
    op.create_table(
        "allocation_entries",
        sa.Column("draw_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_order_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["allocation_draws.id"], name=op.f("fk_allocation_entries_draw_id_allocation_draws")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_allocation_entries_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_entries")),
        sa.UniqueConstraint(
            "draw_id", "participant_id", name=op.f("uq_allocation_entries_draw_id_participant_id")
        ),
    )
    op.create_index(op.f("ix_allocation_entries_participant_id"), "allocation_entries", ["participant_id"])
    op.create_table(
        "revenue_caps",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("operating_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("permitted_profit_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("deduction_minor", sa.BigInteger(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_revenue_caps_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_caps")),
        sa.UniqueConstraint("product_id", "year", name=op.f("uq_revenue_caps_product_id_year")),
    )
    op.create_table(
        "revenue_years",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("excess_minor", sa.BigInteger(), nullable=True),
        sa.Column("carried_forward_minor", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_revenue_years_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_years")),
        sa.UniqueConstraint("product_id", "year", name=op.f("uq_revenue_years_product_id_year")),
    )


def downgrade() -> None:
    op.drop_table("revenue_years")
    op.drop_table("revenue_caps")
    op.drop_table("allocation_entries")
    op.drop_table("allocation_draws")
    op.drop_table("window_usage")
    with op.batch_alter_table("data_resources") as batch:
        batch.drop_column("price_catalogue_class")
    with op.batch_alter_table("orders") as batch:
        for column in ("allocation_draw_id", "window_units", "window_key", "window_scope"):
            batch.drop_column(column)
    with op.batch_alter_table("quotes") as batch:
        for column in ("window_units", "window_prior_units", "window_key", "window_scope"):
            batch.drop_column(column)
