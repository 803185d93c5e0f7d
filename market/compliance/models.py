"""Stored compliance decisions and the facts operators put on file for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, json_type, utcnow


class ComplianceDecisionRow(IdMixin, Base):
    """One decision of the rule set on one listing or trade, with its facts snapshot."""

    __tablename__ = "compliance_decisions"

    kind: Mapped[str] = mapped_column(String(10))  # listing | trade
    subject_type: Mapped[str] = mapped_column(String(20))  # product | quote | order
    subject_id: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(14))  # allow | deny | needs_review
    findings: Mapped[list[dict[str, Any]]] = mapped_column(json_type())
    ruleset_version: Mapped[str] = mapped_column(String(20))
    facts: Mapped[dict[str, Any]] = mapped_column(json_type())
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the outcome is needs_review: pending until an operator decides.
    review_status: Mapped[str | None] = mapped_column(String(10))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_compliance_decisions_subject", "subject_type", "subject_id"),
        Index("ix_compliance_decisions_review", "review_status", "created_at"),
    )


class OperationMandate(IdMixin, Base):
    """Authorised operation of public data (授权运营, Art. 36): who, what, scope, term, split."""

    __tablename__ = "operation_mandates"

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    purposes: Mapped[list[str]] = mapped_column(json_type())
    conditions: Mapped[str] = mapped_column(Text)
    revenue_share: Mapped[str] = mapped_column(String(12))  # Decimal share to the public body
    document: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column()
    valid_to: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpenApplication(IdMixin, Base):
    """An application to use conditionally-open public data (Art. 35): purpose, scope, terms."""

    __tablename__ = "open_applications"

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    purposes: Mapped[list[str]] = mapped_column(json_type())
    scope: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # | approved | rejected
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecurityAssessment(IdMixin, Base):
    """A cross-border filing on file for a foreign recipient (Art. 88; PIPL Art. 38): a CAC
    security assessment, or a filed standard contract, or a personal-information protection
    certification (which of them a trade needs: `market.compliance.cross_border`)."""

    __tablename__ = "security_assessments"

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    # security_assessment | standard_contract | certification
    kind: Mapped[str] = mapped_column(String(24), default="security_assessment")
    reference: Mapped[str] = mapped_column(String(120))
    valid_until: Mapped[datetime] = mapped_column()
    recorded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
