"""prepaid accounts: buyers' balances per currency, their top-ups, ledger lines that name them

Revision ID: 0029
Revises: 0022
Create Date: 2026-12-03 10:00:00

A top-up's ledger movement has no order (`ledger_entries.order_id` becomes nullable); the lines
of a movement that touches a prepaid balance name its account (`ledger_entries.account_id`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "prepaid_accounts",
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.CheckConstraint("balance_minor >= 0", name=op.f("ck_prepaid_accounts_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_prepaid_accounts_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepaid_accounts")),
        sa.UniqueConstraint(
            "participant_id", "currency", name=op.f("uq_prepaid_accounts_participant_id_currency")
        ),
    )
    op.create_index(op.f("ix_prepaid_accounts_participant_id"), "prepaid_accounts", ["participant_id"])
    op.create_table(
        "account_top_ups",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=14), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=False),
        sa.Column("client_secret", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("confirmed_by", sa.String(length=80), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("movement_id", sa.Uuid(), nullable=True),
        _time("completed_at", nullable=True),
        _time("requested_at"),
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["prepaid_accounts.id"],
            name=op.f("fk_account_top_ups_account_id_prepaid_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_top_ups")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_account_top_ups_provider_ref")),
    )
    op.create_index(op.f("ix_account_top_ups_account_id"), "account_top_ups", ["account_id"])
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("order_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_ledger_entries_account_id_prepaid_accounts"), "prepaid_accounts", ["account_id"], ["id"]
        )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_account", table_name="ledger_entries")
    op.execute("DELETE FROM ledger_entries WHERE order_id IS NULL")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("fk_ledger_entries_account_id_prepaid_accounts"), type_="foreignkey")
        batch.drop_column("account_id")
        batch.alter_column("order_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_index(op.f("ix_account_top_ups_account_id"), table_name="account_top_ups")
    op.drop_table("account_top_ups")
    op.drop_index(op.f("ix_prepaid_accounts_participant_id"), table_name="prepaid_accounts")
    op.drop_table("prepaid_accounts")
