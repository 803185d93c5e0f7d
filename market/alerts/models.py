"""Risk alerts raised for operators, with their evidence and acknowledgement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, json_type


class RiskAlert(IdMixin, Base):
    __tablename__ = "risk_alerts"

    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(json_type())
    status: Mapped[str] = mapped_column(String(14), default="open")  # | acknowledged
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledgement: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_risk_alerts_status", "status", "created_at"),
        Index("ix_risk_alerts_rule_subject", "rule", "subject_id"),
    )
