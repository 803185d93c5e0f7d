"""Payments, refunds, the Stripe webhook inbox, the settlement ledger, and escrow: the seller's
payout of each order, the transfers that pay them, and disputes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type, utcnow


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(10))  # offline | stripe
    # The provider's id (Stripe PaymentIntent id, or our offline reference): webhooks find us by it.
    provider_ref: Mapped[str] = mapped_column(String(120), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="requires_payment")  # states.PaymentStatus
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(Text)


class Refund(IdMixin, Base):
    """Money going back to a buyer: decided (and booked as owed) first, then asked of the payment
    provider outside any transaction, with a key derived from its id so it happens once."""

    __tablename__ = "refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")  # states.RefundStatus
    # operator | dispute | compliance | rights | provider (made at the provider, reported to us)
    source: Mapped[str] = mapped_column(String(12), default="operator")
    requested_by: Mapped[str] = mapped_column(String(80))
    # The ledger movement that booked it as owed (reversed if the provider refuses it).
    movement_id: Mapped[uuid.UUID | None] = mapped_column()
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_refunds_status_created", "status", "created_at"),)


class WebhookEvent(IdMixin, Base):
    """Inbox: each Stripe event is stored once (unique event id) and handled once."""

    __tablename__ = "webhook_events"

    provider_event_id: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(Text)


class LedgerEntry(IdMixin, Base):
    """One side of a double-entry money movement; every movement sums to zero, so does every
    order's entries. A top-up of a prepaid account has no order; the lines of a movement that
    touches a prepaid account name it (`account_id`)."""

    __tablename__ = "ledger_entries"

    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prepaid_accounts.id"))
    movement_id: Mapped[uuid.UUID] = mapped_column()  # the lines of one movement share it
    kind: Mapped[str] = mapped_column(String(24))  # charge | commission | payout_due | refund ...
    account: Mapped[str] = mapped_column(String(40))
    # Positive = debit, negative = credit: a balanced movement sums to zero.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_ledger_entries_order", "order_id", "created_at"),
        Index("ix_ledger_entries_account", "account_id", "created_at"),
    )


class Payout(IdMixin, TimestampMixin, Base):
    """The seller's proceeds of one paid order, held in escrow until the trade is safe
    (states.PayoutStatus). The amounts are the ledger's: this row says where they stand."""

    __tablename__ = "payouts"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), unique=True)
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="held")
    held_until: Mapped[datetime] = mapped_column()  # the end of the acceptance window
    due_at: Mapped[datetime | None] = mapped_column()
    paid_out_at: Mapped[datetime | None] = mapped_column()
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payout_transfers.id"))

    # The acceptance-window job's scan: held payouts whose window has passed.
    __table_args__ = (Index("ix_payouts_status_held_until", "status", "held_until"),)


class PayoutTransfer(IdMixin, Base):
    """Money sent to a seller for its due payouts (net of refunds to recover), through the payout
    provider: an operator's recorded bank transfer, or a Stripe Connect transfer."""

    __tablename__ = "payout_transfers"

    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="requested")  # states.TransferStatus
    provider: Mapped[str] = mapped_column(String(10))
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    bank_reference: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    # Order id -> fen this transfer pays for it (negative: a refund recovered from the seller).
    breakdown: Mapped[dict[str, Any]] = mapped_column(json_type())
    recorded_by: Mapped[str] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()


class Dispute(IdMixin, TimestampMixin, Base):
    """A buyer's (or the card network's, or the exchange's) dispute over a paid order; it freezes
    the seller's payout until an operator resolves it (states.DisputeStatus)."""

    __tablename__ = "disputes"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    source: Mapped[str] = mapped_column(String(10))  # buyer | stripe | exchange
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)  # Stripe's dispute id
    reason: Mapped[str] = mapped_column(String(20))  # states.DisputeReason
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    order_status_before: Mapped[str] = mapped_column(String(16))
    opened_by: Mapped[str] = mapped_column(String(80))
    respond_by: Mapped[datetime] = mapped_column()  # the seller's answer, in working days
    resolve_by: Mapped[datetime] = mapped_column()  # the operator's resolution, in working days
    seller_response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column()
    proposed_refund_minor: Mapped[int | None] = mapped_column(BigInteger)  # the exchange's rule
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None] = mapped_column()
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refunds.id"))
    refund_minor: Mapped[int | None] = mapped_column(BigInteger)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_disputes_status_resolve_by", "status", "resolve_by"),)
