"""a product's EU data themes and the media type its data comes in

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-01 09:00:00

The catalogue is DCAT-AP 3: a dataset's themes come from the EU data theme vocabulary and a
distribution's format from the EU file types and IANA media types. Existing products have
no themes and no declared media type until their sellers set them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(
            sa.Column(
                "themes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
        batch.add_column(sa.Column("media_type", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("media_type")
        batch.drop_column("themes")
