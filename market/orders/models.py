"""Quotes and orders: the buyer's path from a priced offer to a paid, delivered trade."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type


class Quote(IdMixin, TimestampMixin, Base):
    __tablename__ = "quotes"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    quantity: Mapped[str] = mapped_column(String(40))  # Decimal as text: never a float
    purpose: Mapped[str] = mapped_column(String(40))
    scenario: Mapped[str] = mapped_column(String(200))
    cross_border: Mapped[bool] = mapped_column(default=False)
    body: Mapped[dict[str, Any]] = mapped_column(json_type())  # the itemised pricing.quote
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # SHA-256 of the quote's canonical JSON: the order pays exactly what was quoted.
    digest: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of the digest under the quote-seal key (derived from the root secret, named by
    # its key id): whoever can write the database cannot recompute it (issue 18, finding 6).
    seal: Mapped[str | None] = mapped_column(String(64))
    seal_key_id: Mapped[str | None] = mapped_column(String(16))
    plan_version: Mapped[int] = mapped_column()
    price_entry_key: Mapped[str | None] = mapped_column(String(80))
    price_entry_version: Mapped[int | None] = mapped_column()
    compliance_outcome: Mapped[str | None] = mapped_column(String(14))
    issued_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | ordered | expired
    # The accumulation window the quote priced in (issue 20; None per order): its units were
    # priced after `window_prior_units` of the buyer's in `window_scope`/`window_key`, and
    # the order adds `window_units` (0 for an exempt purpose).
    window_scope: Mapped[str | None] = mapped_column(String(120))
    window_key: Mapped[str | None] = mapped_column(String(20))
    window_prior_units: Mapped[int | None] = mapped_column()
    window_units: Mapped[int | None] = mapped_column()


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "orders"

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))  # ix_orders_product_created
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    # see states.OrderStatus
    status: Mapped[str] = mapped_column(String(16), default="pending_payment", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    purpose: Mapped[str] = mapped_column(String(40))
    scenario: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[str] = mapped_column(String(40))
    payment_provider: Mapped[str] = mapped_column(String(10))
    payment_reference: Mapped[str | None] = mapped_column(String(120), index=True)
    licence_id: Mapped[uuid.UUID | None] = mapped_column()
    paid_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    # The units the order holds in its buyer's accumulation window (copied from its quote),
    # given back when it ends unpaid or is refunded in full (issue 20).
    window_scope: Mapped[str | None] = mapped_column(String(120))
    window_key: Mapped[str | None] = mapped_column(String(20))
    window_units: Mapped[int | None] = mapped_column()
    # The exchange's random-allocation draw whose win the order used (Art. 70).
    allocation_draw_id: Mapped[uuid.UUID | None] = mapped_column()

    # One order per quote: a replayed or concurrent purchase of the same quote cannot double up.
    __table_args__ = (
        UniqueConstraint("quote_id"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at"),
        # A product's latest orders (the price-outlier check) without reading its whole history.
        Index("ix_orders_product_created", "product_id", "created_at"),
    )


class WindowUsage(Base):
    """A counterparty's counted units in one accumulation window of one tariff or plan
    (国办函〔2020〕109号 Art. 4: per applicant per natural month): units of its pending and paid,
    unrefunded orders. Orders lock this row while they check and add to it, so two orders of
    one buyer cannot both be priced from the same count (both take the free tier)."""

    __tablename__ = "window_usage"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    counterparty_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    window_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column()


class OrderClaim(IdMixin, Base):
    """What an order claims of one of its product's resources, for as long as it lives: a
    purpose, a territory and a term. An exclusive claim reserves the resource within that scope
    against every other order, whatever product or seller it comes through; any claim stops a
    later exclusive one over the same scope (the data, not the listing, is what is exclusive)."""

    __tablename__ = "order_claims"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    territory: Mapped[str] = mapped_column(String(14))
    exclusive: Mapped[bool] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()

    # The live claims on a resource for a purpose: what every order on it checks.
    __table_args__ = (Index("ix_order_claims_resource_purpose", "resource_id", "purpose", "ends_at"),)
