"""Right grants: holding, processing and operating rights (三权分置, Regulation Art. 22)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type


class RightGrantRow(IdMixin, TimestampMixin, Base):
    __tablename__ = "right_grants"

    kind: Mapped[str] = mapped_column(String(12))  # holding | processing | operating
    holder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    # Every grant hangs in one resource's tree, whether it covers the resource or a product on it.
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(10), default="resource")  # resource | product
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("right_grants.id"), index=True)
    registration_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("registrations.id"))
    purposes: Mapped[list[str]] = mapped_column(json_type())
    territory: Mapped[str] = mapped_column(String(14), default="domestic")
    sublicensable: Mapped[bool] = mapped_column(default=False)
    field_limits: Mapped[list[str] | None] = mapped_column(json_type())
    volume_limit: Mapped[int | None] = mapped_column()
    valid_from: Mapped[datetime] = mapped_column()
    valid_to: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revocation_reason: Mapped[str | None] = mapped_column(Text)
