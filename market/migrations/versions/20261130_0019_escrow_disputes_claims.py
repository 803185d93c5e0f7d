"""escrow: payouts, transfers, disputes, refunds in two steps, claims on resources

Revision ID: 0019
Revises: 0015
Create Date: 2026-11-30 14:00:00

The seller's proceeds of each paid order are held in escrow (`payouts`) until due and paid out
(`payout_transfers`); disputes freeze them; refunds are decided, then confirmed by the provider;
orders claim their resources for a purpose and term (`order_claims`), so exclusivity belongs to
the data. Trades paid before escrow existed were settled at once: their proceeds become due
(`payable:seller` is now `payable:seller:due`), fully refunded ones cancelled; their live orders
claim their resources as new ones do.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payout_transfers",
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("bank_reference", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("breakdown", _json(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        _time("created_at"),
        _time("completed_at", nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["participants.id"], name=op.f("fk_payout_transfers_seller_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_transfers")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_payout_transfers_provider_ref")),
    )
    op.create_index(op.f("ix_payout_transfers_seller_id"), "payout_transfers", ["seller_id"])

    op.create_table(
        "order_claims",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("territory", sa.String(length=14), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        _time("released_at", nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_claims_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["data_resources.id"], name=op.f("fk_order_claims_resource_id_data_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_claims")),
    )
    op.create_index(op.f("ix_order_claims_order_id"), "order_claims", ["order_id"])
    op.create_index("ix_order_claims_resource_purpose", "order_claims", ["resource_id", "purpose", "ends_at"])

    op.create_table(
        "payouts",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        _time("held_until"),
        _time("due_at", nullable=True),
        _time("paid_out_at", nullable=True),
        sa.Column("transfer_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_payouts_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["participants.id"], name=op.f("fk_payouts_seller_id_participants")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["payout_transfers.id"], name=op.f("fk_payouts_transfer_id_payout_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payouts_order_id")),
    )
    op.create_index(op.f("ix_payouts_seller_id"), "payouts", ["seller_id"])
    op.create_index("ix_payouts_status_held_until", "payouts", ["status", "held_until"])

    op.create_table(
        "disputes",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("buyer_id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_status_before", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        _time("respond_by"),
        _time("resolve_by"),
        sa.Column("seller_response", sa.Text(), nullable=True),
        _time("responded_at", nullable=True),
        sa.Column("proposed_refund_minor", sa.BigInteger(), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        _time("resolved_at", nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("refund_minor", sa.BigInteger(), nullable=True),
        _time("overdue_alerted_at", nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["participants.id"], name=op.f("fk_disputes_buyer_id_participants")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_disputes_order_id_orders")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_disputes_refund_id_refunds")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["participants.id"], name=op.f("fk_disputes_seller_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_disputes_provider_ref")),
    )
    op.create_index(op.f("ix_disputes_buyer_id"), "disputes", ["buyer_id"])
    op.create_index(op.f("ix_disputes_order_id"), "disputes", ["order_id"])
    op.create_index(op.f("ix_disputes_seller_id"), "disputes", ["seller_id"])
    op.create_index("ix_disputes_status_resolve_by", "disputes", ["status", "resolve_by"])

    with op.batch_alter_table("licences") as batch:
        batch.add_column(sa.Column("issued_terms", _json(), nullable=True))
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("source", sa.String(length=12), nullable=False, server_default="operator"))
        batch.add_column(sa.Column("movement_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_refunds_status_created", "refunds", ["status", "created_at"])
    _settle_existing_trades()


def _stamp(value: object, sqlite: bool) -> datetime:
    """A stored timestamp as this backend stores it (SQLite: naive UTC text, as the models do)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(tzinfo=None) if sqlite else moment


def _settle_existing_trades() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    bind.execute(
        sa.text("UPDATE ledger_entries SET account = 'payable:seller:due' WHERE account = 'payable:seller'")
    )
    bind.execute(sa.text("UPDATE refunds SET status = 'requested' WHERE status = 'pending'"))
    now = datetime.now(UTC)
    payouts = sa.table(
        "payouts",
        sa.column("id", sa.Uuid()),
        # The ids below are copied as read: each backend's own representation.
        *(sa.column(c) for c in ("order_id", "seller_id", "currency", "status")),
        *(
            sa.column(c, sa.DateTime(timezone=True))
            for c in ("held_until", "due_at", "created_at", "updated_at")
        ),
    )
    paid = bind.execute(
        sa.text(
            "SELECT id, seller_id, currency, status, COALESCE(paid_at, created_at) FROM orders "
            "WHERE status IN ('paid', 'delivered', 'completed', 'disputed', 'refunded')"
        )
    ).all()
    for order_id, seller_id, currency, status, paid_on in paid:
        paid_at = _stamp(paid_on, sqlite)
        bind.execute(
            payouts.insert().values(
                id=uuid.uuid4(),
                order_id=order_id,
                seller_id=seller_id,
                currency=currency,
                status="cancelled" if status == "refunded" else "due",
                held_until=paid_at,
                due_at=None if status == "refunded" else paid_at,
                created_at=_stamp(now, sqlite),
                updated_at=_stamp(now, sqlite),
            )
        )
    claims = sa.table(
        "order_claims",
        sa.column("id", sa.Uuid()),
        *(sa.column(c) for c in ("order_id", "resource_id", "purpose", "territory", "exclusive")),
        *(sa.column(c, sa.DateTime(timezone=True)) for c in ("starts_at", "ends_at")),
    )
    live = bind.execute(
        sa.text(
            "SELECT o.id, pr.resource_id, o.purpose, q.cross_border, p.exclusivity, o.created_at, l.valid_to "
            "FROM orders o JOIN products p ON p.id = o.product_id "
            "JOIN product_resources pr ON pr.product_id = o.product_id "
            "JOIN quotes q ON q.id = o.quote_id LEFT JOIN licences l ON l.order_id = o.id "
            "WHERE o.status IN ('needs_review', 'pending_payment', 'paid', 'delivered', 'completed', 'disputed')"
        )
    ).all()
    for order_id, resource_id, purpose, cross_border, exclusivity, created_on, valid_to in live:
        created_at = _stamp(created_on, sqlite)
        bind.execute(
            claims.insert().values(
                id=uuid.uuid4(),
                order_id=order_id,
                resource_id=resource_id,
                purpose=purpose,
                territory="cross_border" if cross_border else "domestic",
                exclusive=exclusivity == "exclusive",
                starts_at=created_at,
                # Without a licence yet, a year: the longest common term, erring towards keeping
                # an exclusive sale reserved.
                ends_at=_stamp(valid_to, sqlite) if valid_to else created_at + timedelta(days=365),
            )
        )


def downgrade() -> None:
    op.drop_index("ix_refunds_status_created", table_name="refunds")
    op.execute("UPDATE refunds SET status = 'pending' WHERE status = 'requested'")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("completed_at")
        batch.drop_column("failure_reason")
        batch.drop_column("movement_id")
        batch.drop_column("source")
    with op.batch_alter_table("licences") as batch:
        batch.drop_column("issued_terms")
    op.drop_table("disputes")
    op.drop_table("payouts")
    op.drop_table("order_claims")
    op.drop_table("payout_transfers")
    op.execute("UPDATE ledger_entries SET account = 'payable:seller' WHERE account LIKE 'payable:seller:%'")
