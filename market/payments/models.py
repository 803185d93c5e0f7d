"""Payments, refunds, the Stripe webhook inbox and the settlement ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, utcnow


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(10))  # offline | stripe
    # The provider's id (Stripe PaymentIntent id, or our offline reference): webhooks find us by it.
    provider_ref: Mapped[str] = mapped_column(String(120), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # requires_payment | succeeded | failed | refunded | partially_refunded | disputed
    status: Mapped[str] = mapped_column(String(20), default="requires_payment")
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(Text)


class Refund(IdMixin, Base):
    __tablename__ = "refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # | succeeded | failed
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    """One side of a double-entry money movement; every order's entries sum to zero."""

    __tablename__ = "ledger_entries"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    movement_id: Mapped[uuid.UUID] = mapped_column()  # the lines of one movement share it
    kind: Mapped[str] = mapped_column(String(24))  # charge | commission | payout_due | refund ...
    account: Mapped[str] = mapped_column(String(40))
    # Positive = debit, negative = credit: a balanced movement sums to zero.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_ledger_entries_order", "order_id", "created_at"),)
