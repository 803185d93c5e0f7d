"""Maximum permitted revenue per authorised-operation product per year (发改价格〔2025〕65号)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, utcnow


class RevenueCapRow(IdMixin, Base):
    """The price authority's approval for one product and Beijing calendar year (65号 三)."""

    __tablename__ = "revenue_caps"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    year: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    operating_cost_minor: Mapped[int] = mapped_column(BigInteger)
    permitted_profit_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    # Excess of earlier years deducted from this year's (65号 四), carried by the exchange.
    deduction_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    legal_basis: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("product_id", "year"),)


class RevenueYear(IdMixin, Base):
    """Fees charged for a product in one Beijing calendar year, net of refunds; locked by each
    payment and refund that changes it, closed after the year ends."""

    __tablename__ = "revenue_years"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    year: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column()
    excess_minor: Mapped[int | None] = mapped_column(BigInteger)
    carried_forward_minor: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("product_id", "year"),)
