"""Random allocation draws run by the exchange (Art. 70, commit–reveal; `pricing.allocation`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, json_type


class AllocationDraw(IdMixin, Base):
    """One draw: announced with the seed's commitment before its window opens; the seed is
    kept here, shown by no API, log or audit entry until the reveal (then in `result`)."""

    __tablename__ = "allocation_draws"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    rule: Mapped[str] = mapped_column(String(500))
    winners_wanted: Mapped[int] = mapped_column()
    commitment: Mapped[str] = mapped_column(String(64))
    announcement: Mapped[dict[str, Any]] = mapped_column(json_type())  # AllocationAnnouncement
    announced_at: Mapped[datetime] = mapped_column()
    opens_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column(index=True)
    seed: Mapped[str] = mapped_column(String(64))  # secret until revealed_at
    announced_by: Mapped[str] = mapped_column(String(80))
    revealed_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(json_type())  # AllocationResult


class AllocationEntry(IdMixin, Base):
    """A participant entered in a draw (once); a winner's entry names the order that used it."""

    __tablename__ = "allocation_entries"

    draw_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("allocation_draws.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    entered_at: Mapped[datetime] = mapped_column()
    used_by_order_id: Mapped[uuid.UUID | None] = mapped_column()

    __table_args__ = (UniqueConstraint("draw_id", "participant_id"),)
