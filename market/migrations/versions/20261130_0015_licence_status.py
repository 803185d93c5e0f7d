"""a licence's status as a column of its own (one state machine per entity)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 13:00:00

A licence was "revoked" when `revoked_at` was set; its status is now a column that only the
licence state machine (`market.delivery.states`) changes. Revoked licences keep their time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="active"))
    op.execute("UPDATE licences SET status = 'revoked' WHERE revoked_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.drop_column("status")
