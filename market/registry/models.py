"""Data resources and their registrations (数据要素登记, Regulation Art. 62)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.db.base import Base, IdMixin, TimestampMixin, json_type


class DataResource(IdMixin, TimestampMixin, Base):
    __tablename__ = "data_resources"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(12))  # public | enterprise | personal (Art. 21)
    grade: Mapped[str] = mapped_column(String(12))  # general | important | core (Art. 82)
    open_class: Mapped[str | None] = mapped_column(String(16))  # Art. 32, 35 (public data)
    personal_info: Mapped[str | None] = mapped_column(
        String(16)
    )  # identifiable|de_identified|anonymised
    anonymisation_method: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[dict[str, Any] | None] = mapped_column(json_type())  # Art. 43 consent basis
    sensitive_personal: Mapped[bool] = mapped_column(default=False)
    trade_secret: Mapped[bool] = mapped_column(default=False)
    security_tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    lawful_source: Mapped[str] = mapped_column(Text)
    data_schema: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    fingerprint_sha256: Mapped[str | None] = mapped_column(String(64))
    sample_bytes: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")


class Registration(IdMixin, TimestampMixin, Base):
    __tablename__ = "registrations"

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"), index=True)
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"), index=True)
    # initial | change | transfer | cancellation
    kind: Mapped[str] = mapped_column(String(16), default="initial")
    # submitted | publicity | registered | rejected | cancelled | superseded | transferred
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    rights_evidence: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    decision_reasons: Mapped[list[str] | None] = mapped_column(json_type())
    publicity_started_at: Mapped[datetime | None] = mapped_column()
    publicity_ends_at: Mapped[datetime | None] = mapped_column()
    registered_at: Mapped[datetime | None] = mapped_column()
    transfer_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participants.id"))
    certificate: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    resource_version: Mapped[int] = mapped_column(default=1)
