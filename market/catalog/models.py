"""Products (挂牌 listings) and the government-guided price catalogue (Art. 65)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type, utcnow

product_resources = Table(
    "product_resources",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_id", ForeignKey("data_resources.id"), primary_key=True),
)


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "products"

    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    delivery_mode: Mapped[str] = mapped_column(String(10))  # file | api | sandbox
    scenarios: Mapped[list[str]] = mapped_column(json_type())
    price_plan: Mapped[dict[str, Any]] = mapped_column(json_type())  # a pricing.plans plan
    plan_version: Mapped[int] = mapped_column(default=1)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Indicative lowest price (fen) so the catalogue can filter on price without parsing plans.
    price_from_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    licence_template: Mapped[dict[str, Any]] = mapped_column(json_type())
    # EU data themes (DCAT-AP `dcat:theme`) and the IANA media type the data comes in.
    themes: Mapped[list[str]] = mapped_column(json_type(), default=list)
    media_type: Mapped[str | None] = mapped_column(String(255))
    exclusivity: Mapped[str] = mapped_column(String(14), default="non_exclusive")
    stock_limit: Mapped[int | None] = mapped_column()
    sold_count: Mapped[int] = mapped_column(default=0)
    operating_grant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("right_grants.id"))
    # For paid public data: which guided catalogue class the plan is priced under.
    price_catalogue_class: Mapped[str | None] = mapped_column(String(80))
    # Denormalised from the resources for search filters (worst grade, categories).
    category: Mapped[str] = mapped_column(String(12))
    grade: Mapped[str] = mapped_column(String(12))
    # draft | submitted | needs_review | listed | rejected | suspended | delisted
    listing_status: Mapped[str] = mapped_column(String(14), default="draft", index=True)
    listing_reason: Mapped[str | None] = mapped_column(Text)
    listed_at: Mapped[datetime | None] = mapped_column()
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        Index("ix_products_status_created", "listing_status", "created_at"),
        # The catalogue's newest-first page within one category, without walking the others.
        Index("ix_products_status_category_created", "listing_status", "category", "created_at"),
    )


class PriceCatalogueEntryRow(IdMixin, Base):
    """One version of a guided price entry as the price authority published it."""

    __tablename__ = "price_catalogue_entries"

    entry_key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column()
    data_class: Mapped[str] = mapped_column(String(80), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(json_type())  # a pricing.catalogue entry
    status: Mapped[str] = mapped_column(String(12), default="in_force")  # | superseded | withdrawn
    effective_from: Mapped[datetime] = mapped_column()
    effective_to: Mapped[datetime | None] = mapped_column()
    legal_basis: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("entry_key", "version"),)
