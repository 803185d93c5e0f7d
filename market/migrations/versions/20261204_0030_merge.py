"""merge file delivery, the API gateway, regulated pricing, sessions and verification, and
prepaid accounts

Revision ID: 0030
Revises: 0023, 0024, 0025, 0026, 0029
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

revision: str = "0030"
down_revision: str | Sequence[str] | None = ("0023", "0024", "0025", "0026", "0029")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
