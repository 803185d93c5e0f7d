"""Data resources and their registrations (数据要素登记, Regulation Art. 62)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
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
    personal_info: Mapped[str | None] = mapped_column(String(16))  # identifiable|de_identified|anonymised
    anonymisation_method: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[dict[str, Any] | None] = mapped_column(json_type())  # Art. 43 consent basis
    sensitive_personal: Mapped[bool] = mapped_column(default=False)
    trade_secret: Mapped[bool] = mapped_column(default=False)
    security_tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    lawful_source: Mapped[str] = mapped_column(Text)
    data_schema: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    fingerprint_sha256: Mapped[str | None] = mapped_column(String(64))
    sample_bytes: Mapped[int | None] = mapped_column()
    # A new sample uploaded for a change registration waits here until the change is registered.
    pending_fingerprint_sha256: Mapped[str | None] = mapped_column(String(64))
    pending_sample_bytes: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Public data: the guided catalogue class it is priced under (Art. 65), bound by an operator
    # or the price authority, never by the seller (issue 20); products on it use its entry.
    price_catalogue_class: Mapped[str | None] = mapped_column(String(80))


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


class Objection(IdMixin, Base):
    """An objection during publicity (Art. 30; handled within 5 working days, 2020 Art. 12)."""

    __tablename__ = "objections"

    registration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registrations.id"), index=True)
    objector_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    # wrong_data | personal_information | trade_secret | ownership_dispute
    kind: Mapped[str] = mapped_column(String(24))
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # | upheld | dismissed
    filed_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution_reason: Mapped[str | None] = mapped_column(Text)


class ConsentRecord(IdMixin, Base):
    """One version of the consent a personal resource rests on (Art. 43; PIPL Art. 13, 14, 23,
    29): who is covered and on what basis. A new version supersedes the current one; every
    version is kept, so what the rules relied on at any time can be shown."""

    __tablename__ = "consent_records"

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"))
    version: Mapped[int] = mapped_column()
    # PIPL Art. 13: consent | contract | legal_duty | public_health | news_reporting
    # | publicly_disclosed | other_law
    legal_basis: Mapped[str] = mapped_column(String(24))
    purposes: Mapped[list[str]] = mapped_column(json_type())
    onward_transfer_consented: Mapped[bool] = mapped_column()  # PIPL Art. 23 separate consent
    sensitive_separately_consented: Mapped[bool] = mapped_column()  # PIPL Art. 29
    people_covered: Mapped[int] = mapped_column(BigInteger)
    sensitive_people_covered: Mapped[int] = mapped_column(BigInteger)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    evidence_description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column()
    superseded_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (UniqueConstraint("resource_id", "version"),)


class PersonalDataHold(IdMixin, Base):
    """A person's data in this resource must go (an upheld consent withdrawal, deletion request
    or personal-information objection): no listing or sale of it until an operator releases the
    hold, once the seller has removed the data (PIPL Art. 15, 47; Jilin 2023 Art. 43, 44)."""

    __tablename__ = "personal_data_holds"

    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_resources.id"))
    cause_type: Mapped[str] = mapped_column(String(20))  # subject_request | objection
    cause_id: Mapped[uuid.UUID] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(80))
    placed_at: Mapped[datetime] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    released_by: Mapped[str | None] = mapped_column(String(80))
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("resource_id", "cause_type", "cause_id"),
        Index("ix_personal_data_holds_open", "resource_id", "released_at"),
    )


class CalendarDay(IdMixin, Base):
    """An operator's addition to the working-day calendar: a holiday or a makeup working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()


class CalendarYear(IdMixin, Base):
    """An operator's word that a year's official holidays and makeup days are all entered, so
    deadlines may reach into it before the calendar package knows that year."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(String(300))
    confirmed_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()


class NumberCounter(Base):
    """SQLite's allocator of registration numbers (PostgreSQL draws them from the sequence
    `registration_numbers`): one row per series, incremented under the write lock."""

    __tablename__ = "number_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
