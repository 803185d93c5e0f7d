"""indexes that keep the order path and catalogue search flat as the exchange grows

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 11:40:00

Found by bench/bench_growth.py: the price-outlier check read every earlier order of a product
(a bestseller's order took 3.8x longer at 1M orders), and a catalogue search for a rare term
scanned every product, because the substring match OR-ed with full-text search had no index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_product_id"))
        batch_op.create_index("ix_orders_product_created", ["product_id", "created_at"], unique=False)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_status_category_created", ["listing_status", "category", "created_at"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_products_search_trgm ON products USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_products_search_trgm")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_status_category_created")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_product_created")
        batch_op.create_index(batch_op.f("ix_orders_product_id"), ["product_id"], unique=False)
