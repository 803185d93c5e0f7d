"""merge the transparency log, licence status, calendar years, job queue, escrow, themes and
personal information

Revision ID: 0022
Revises: 0016, 0017, 0018, 0019, 0020, 0021
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

revision: str = "0022"
down_revision: str | Sequence[str] | None = ("0016", "0017", "0018", "0019", "0020", "0021")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
