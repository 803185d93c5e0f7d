"""verification deadlines: when a participant's verification must be decided, and when it was
found overdue

Revision ID: 0031_h18
Revises: 0030
Create Date: 2026-12-05 10:00:00

Participants signed up before this revision have no deadline (NULL): no working-day calendar is
at hand in a migration, and the operators' queue shows them oldest first anyway.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_h18"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("verification_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("verification_overdue_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("verification_overdue_at")
        batch.drop_column("verification_due_at")
