"""An API product's upstream (where the gateway forwards calls) and its licences' usage by day."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, json_type, utcnow


class Upstream(IdMixin, Base):
    __tablename__ = "gateway_upstreams"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), unique=True)
    base_url: Mapped[str] = mapped_column(String(2000))
    # The header the exchange authenticates with, and its secret sealed under a key derived for
    # this purpose (market.gateway.sealing): never stored in clear, never shown again.
    auth_header: Mapped[str | None] = mapped_column(String(100))
    sealed_secret: Mapped[str | None] = mapped_column(Text)
    allowed_methods: Mapped[list[str]] = mapped_column(json_type())
    allowed_path_prefixes: Mapped[list[str]] = mapped_column(json_type())
    timeout_ms: Mapped[int] = mapped_column()
    # AWS Data Exchange's "per request" (True) or "per successful request" (False, default).
    count_failed_calls: Mapped[bool] = mapped_column(default=False)
    rate_limit: Mapped[str] = mapped_column(String(40))  # per licence, `limits` notation
    updated_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageDay(IdMixin, Base):
    """Calls through the gateway for one licence on one UTC day, as flushed by the gateway
    processes (market.gateway.meter); `summarised_calls` is what the audit log was told."""

    __tablename__ = "gateway_usage_days"

    licence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licences.id"))
    day: Mapped[date] = mapped_column(Date)
    calls: Mapped[int] = mapped_column(default=0)
    failed_calls: Mapped[int] = mapped_column(default=0)
    summarised_calls: Mapped[int] = mapped_column(default=0)
    summarised_failed_calls: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("licence_id", "day"),)
