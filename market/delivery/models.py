"""Licences (what a buyer holds) and entitlements (how the data reaches the buyer)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db.base import Base, IdMixin, json_type, utcnow
from market.orders.models import Order  # mapped before `LicenceRow.order` is configured


class LicenceRow(IdMixin, Base):
    __tablename__ = "licences"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), unique=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    operating_grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("right_grants.id"))
    terms: Mapped[dict[str, Any]] = mapped_column(json_type())  # contracts.Licence, as in force now
    # The terms as issued, kept once a partial refund narrowed `terms` (every later narrowing is
    # computed from them, so rounding never compounds).
    issued_terms: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    status: Mapped[str] = mapped_column(String(12), default="active")  # see states.LicenceStatus
    valid_from: Mapped[datetime] = mapped_column()
    valid_to: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Never loaded (set `order_id`): it tells the unit of work that an order is written before
    # its licence, so an order placed, paid and delivered in one request is one flush (issue 21).
    order: Mapped[Order] = relationship(lazy="raise")


class Entitlement(IdMixin, Base):
    __tablename__ = "entitlements"

    licence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licences.id"), unique=True)
    delivery_mode: Mapped[str] = mapped_column(String(10))  # file | api | sandbox
    # API products: the access credential, stored hashed (shown to the buyer once).
    credential_prefix: Mapped[str | None] = mapped_column(String(32), unique=True)
    credential_hash: Mapped[str | None] = mapped_column(String(64))
    call_quota: Mapped[int | None] = mapped_column()  # per period for a subscription
    calls_used: Mapped[int] = mapped_column(default=0)
    # Calls the gateway processes hold in reserve (market.gateway.meter): used + reserved never
    # exceeds the quota, so several gateway processes together stay within it.
    calls_reserved: Mapped[int] = mapped_column(default=0)
    # A subscription's quota renews each period ("month" | "quarter" | "year"; None: one quota
    # over the term); `period_index` is the period `calls_used` counts (0: the first).
    quota_period: Mapped[str | None] = mapped_column(String(8))
    period_index: Mapped[int] = mapped_column(default=0)
    credential_revealed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Never loaded (set `licence_id`): a licence is written before its entitlement in one flush.
    licence: Mapped[LicenceRow] = relationship(lazy="raise")


class UsageRecord(IdMixin, Base):
    __tablename__ = "usage_records"

    entitlement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entitlements.id"), index=True)
    calls: Mapped[int] = mapped_column()
    reported_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
