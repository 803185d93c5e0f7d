"""Data-subject requests (PIPL Art. 44-50; Jilin Regulation 2023 Art. 41-44), the contact
verifications that let a person without an account file one, and the obligations an upheld
withdrawal or deletion puts on current licensees."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type


class ContactVerification(IdMixin, Base):
    """A one-time code sent to a person's e-mail address or mobile number; once confirmed, a
    requester token (stored hashed) lets that person file and follow requests."""

    __tablename__ = "contact_verifications"

    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    # Kept so the seller can check the person against its records (GB/T 35273-2020 §8.7 a);
    # never written to the audit log, where the keyed pseudonym stands for it.
    contact: Mapped[str] = mapped_column(String(254))
    contact_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # see states
    expires_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class SubjectRequest(IdMixin, TimestampMixin, Base):
    """A person's request about their personal information held by a seller, with its deadline."""

    __tablename__ = "subject_requests"

    # access | copy | portability | correction | deletion | consent_withdrawal | explanation
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="open")  # see states
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_resources.id"))
    # Who asked: a signed-in natural person, or a verified contact.
    requester_participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    verification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact_verifications.id"))
    # The keyed hash that stands for the person wherever the request is logged or matched.
    requester_pseudonym: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)
    subject_identifiers: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column()
    warn_at: Mapped[datetime] = mapped_column()
    warned_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    response: Mapped[str | None] = mapped_column(Text)
    refusal_reasons: Mapped[list[str] | None] = mapped_column(json_type())
    affected_resource_ids: Mapped[list[str] | None] = mapped_column(json_type())
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalation_cause: Mapped[str | None] = mapped_column(String(12))  # deadline | requester
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_subject_requests_seller_created", "seller_id", "created_at"),
        Index("ix_subject_requests_status_due", "status", "due_at"),
        Index("ix_subject_requests_requester_created", "requester_pseudonym", "created_at"),
    )


class LicenseeObligation(IdMixin, Base):
    """A current licensee must acknowledge that it deleted, or stopped using, a person's data
    that the seller no longer may sell (PIPL Art. 15, 47; Jilin 2023 Art. 43, 44)."""

    __tablename__ = "licensee_obligations"

    licence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licences.id"))
    licensee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"))
    cause_type: Mapped[str] = mapped_column(String(20))  # subject_request | objection
    cause_id: Mapped[uuid.UUID] = mapped_column()
    cause_kind: Mapped[str] = mapped_column(String(20))  # consent_withdrawal | deletion | objection
    status: Mapped[str] = mapped_column(String(14), default="pending")  # see states
    due_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(14))  # deleted | stopped_using
    statement: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(80))
    resolution: Mapped[str | None] = mapped_column(String(16))  # licence_revoked | closed
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("licence_id", "resource_id", "cause_type", "cause_id"),
        Index("ix_licensee_obligations_licensee", "licensee_id", "created_at"),
        Index("ix_licensee_obligations_status_due", "status", "due_at"),
    )
