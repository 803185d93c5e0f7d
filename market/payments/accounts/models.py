"""Prepaid accounts: a buyer's balance in one currency, and the top-ups that fill it.

The balance is the ledger's: `balance_minor` is minus the sum of the account's
`payable:buyer:prepaid` lines (money the exchange holds for the buyer), kept on the row so that
a debit is one conditional UPDATE that cannot overdraw, under any concurrency (the CHECK
constraint is the last guard)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, utcnow


class Account(IdMixin, TimestampMixin, Base):
    __tablename__ = "prepaid_accounts"

    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # states.AccountStatus
    opened_by: Mapped[str] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("participant_id", "currency"),
        CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
    )


class TopUp(IdMixin, TimestampMixin, Base):
    """Money on its way into an account: a bank transfer an operator confirms, or a card payment
    Stripe reports (webhook). Credited once, when it arrives."""

    __tablename__ = "account_top_ups"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prepaid_accounts.id"), index=True)
    method: Mapped[str] = mapped_column(String(14))  # bank_transfer | card
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="requested")  # states.TopUpStatus
    # The reference the buyer quotes on the transfer, or Stripe's PaymentIntent id.
    provider_ref: Mapped[str] = mapped_column(String(120), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(80))
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    movement_id: Mapped[uuid.UUID | None] = mapped_column()  # the ledger movement that credited it
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
