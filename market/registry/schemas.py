"""Request and response models for resources, registrations, objections and the calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from market.common.schemas import StrictModel, examples
from market.common.vocabulary import PurposeName

SecurityTag = Literal["national_security", "public_security", "military", "state_secret", "public_interest"]


class ConsentBasis(StrictModel):
    """The consent personal data rests on (Art. 43; PIPL Art. 23, 29)."""

    purposes: list[PurposeName] = Field(min_length=1)
    covers_onward_transfer: bool = False
    separate_consent_for_sensitive: bool = False
    evidence: str = Field(min_length=3, max_length=2000, description="Where the consent records are.")


class ResourceCreate(StrictModel):
    model_config = examples(
        {
            "title": "长春中小企业经营数据",
            "description": "Monthly operating indicators of SMEs by district",
            "category": "enterprise",
            "grade": "general",
            "lawful_source": "collected from member enterprises under data-sharing agreements",
        },
        {
            "title": "吉林省企业登记公共数据",
            "category": "public",
            "grade": "general",
            "open_class": "conditional",
            "lawful_source": "published by the market regulator under Art. 32",
        },
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    category: Literal["public", "enterprise", "personal"] = Field(description="Art. 21")
    grade: Literal["general", "important", "core"] = Field(description="Art. 82; GB/T 43697-2024")
    open_class: Literal["unconditional", "conditional", "not_open"] | None = Field(
        default=None, description="Public data only (Art. 32, 35)"
    )
    personal_info: Literal["identifiable", "de_identified", "anonymised"] | None = None
    anonymisation_method: str | None = Field(default=None, min_length=3, max_length=2000)
    consent: ConsentBasis | None = None
    sensitive_personal: bool = False
    trade_secret: bool = False
    security_tags: list[SecurityTag] = Field(default_factory=list)
    lawful_source: str = Field(min_length=3, max_length=4000)
    data_schema: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _classification(self) -> ResourceCreate:
        if self.category == "public" and self.open_class is None:
            raise ValueError("public data needs its open_class (Art. 35)")
        if self.category != "public" and self.open_class is not None:
            raise ValueError("open_class applies to public data only")
        if self.category == "personal" and self.personal_info is None:
            raise ValueError("personal data needs personal_info: identifiable, de_identified or anonymised")
        if self.personal_info == "anonymised" and not self.anonymisation_method:
            raise ValueError("data marked anonymised needs the anonymisation_method used")
        if self.personal_info == "identifiable" and self.consent is None:
            raise ValueError("identifiable personal data needs its consent basis (Art. 43)")
        return self


class ResourceOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str
    category: str
    grade: str
    open_class: str | None
    personal_info: str | None
    anonymisation_method: str | None
    consent: dict[str, Any] | None
    sensitive_personal: bool
    trade_secret: bool
    security_tags: list[str]
    lawful_source: str
    data_schema: dict[str, Any] | None
    fingerprint_sha256: str | None
    sample_bytes: int | None
    pending_fingerprint_sha256: str | None
    price_catalogue_class: str | None = None
    version: int
    status: str
    created_at: datetime


LegalBasis = Literal[
    "consent",  # PIPL Art. 13(1)
    "contract",  # 13(2): necessary for a contract with the person or for HR management
    "legal_duty",  # 13(3)
    "public_health",  # 13(4): public health emergencies, protecting life, health and property
    "news_reporting",  # 13(5)
    "publicly_disclosed",  # 13(6): disclosed by the person or otherwise lawfully public
    "other_law",  # 13(7)
]


class ConsentRecordCreate(StrictModel):
    """A new version of the consent record of a personal resource; it supersedes the current one."""

    model_config = examples(
        {
            "legal_basis": "consent",
            "purposes": ["risk_control"],
            "onward_transfer_consented": True,
            "people_covered": 1200000,
            "evidence_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "evidence_description": "signed consent forms, archive box 12",
        }
    )

    legal_basis: LegalBasis = Field(description="PIPL Art. 13")
    purposes: list[PurposeName] = Field(min_length=1, max_length=20)
    onward_transfer_consented: bool = Field(
        description="Separate consent to giving the data to another processor, the buyer (PIPL Art. 23)"
    )
    sensitive_separately_consented: bool = Field(
        default=False, description="Separate consent for sensitive personal information (PIPL Art. 29)"
    )
    people_covered: int = Field(ge=1, le=2_000_000_000, strict=True, examples=[1_200_000])
    sensitive_people_covered: int = Field(default=0, ge=0, le=2_000_000_000, strict=True)
    evidence_sha256: str = Field(
        pattern="^[0-9a-f]{64}$", description="SHA-256 (lower-case hex) of the consent evidence file"
    )
    evidence_description: str = Field(min_length=3, max_length=2000, description="What and where it is")

    @model_validator(mode="after")
    def _counts(self) -> ConsentRecordCreate:
        if self.sensitive_people_covered > self.people_covered:
            raise ValueError("sensitive_people_covered cannot exceed people_covered")
        return self


class ConsentRecordOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    version: int
    legal_basis: str
    purposes: list[str]
    onward_transfer_consented: bool
    sensitive_separately_consented: bool
    people_covered: int
    sensitive_people_covered: int
    evidence_sha256: str
    evidence_description: str
    recorded_by: str
    recorded_at: datetime
    superseded_at: datetime | None
    current: bool


class HoldOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    cause_type: str
    cause_id: uuid.UUID
    reason: str
    placed_at: datetime
    released_at: datetime | None
    release_reason: str | None


class HoldRelease(StrictModel):
    model_config = examples(
        *[{"reason": "the seller removed the person's records (audit report 2026-11-21)"}]
    )

    reason: str = Field(
        min_length=10, max_length=2000, description="How the seller showed the person's data was removed"
    )


class RegistrationCreate(StrictModel):
    model_config = examples(
        {
            "resource_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "rights_evidence": "member agreements 2026-001..120",
        }
    )

    resource_id: uuid.UUID
    rights_evidence: str = Field(min_length=3, max_length=4000)


class Checklist(StrictModel):
    classification_present: bool
    lawful_source: bool
    fingerprint: bool
    rights_evidence: bool


class RegistrationDecision(StrictModel):
    model_config = examples(
        {
            "decision": "approve",
            "checklist": {
                "classification_present": True,
                "lawful_source": True,
                "fingerprint": True,
                "rights_evidence": True,
            },
        },
        {
            "decision": "reject",
            "checklist": {
                "classification_present": True,
                "lawful_source": False,
                "fingerprint": True,
                "rights_evidence": True,
            },
            "reasons": ["the lawful source names no contract"],
        },
    )

    decision: Literal["approve", "reject"]
    checklist: Checklist
    reasons: list[str] = Field(default_factory=list, max_length=20)


class ChangeRequest(StrictModel):
    model_config = examples({"reason": "the resource gained a district column"})

    reason: str = Field(min_length=3, max_length=2000)


class TransferRequest(StrictModel):
    model_config = examples(
        {
            "to_participant_id": "6f708192-a3b4-4fc0-b14c-5d6e7f8091a2",
            "reason": "sold with the business unit, contract 2026-88",
        }
    )

    to_participant_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=2000)


class RegistrationOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    applicant_id: uuid.UUID
    kind: str
    status: str
    registration_number: str | None
    rights_evidence: str
    checklist: dict[str, Any] | None
    decision_reasons: list[str] | None
    publicity_started_at: datetime | None
    publicity_ends_at: datetime | None
    registered_at: datetime | None
    transfer_to_id: uuid.UUID | None
    certificate: dict[str, Any] | None
    resource_version: int
    created_at: datetime


class ObjectionCreate(StrictModel):
    model_config = examples(
        {
            "kind": "ownership_dispute",
            "grounds": "these records were collected by our company, contract 2025-17 attached",
        }
    )

    kind: Literal["wrong_data", "personal_information", "trade_secret", "ownership_dispute"]
    grounds: str = Field(min_length=10, max_length=4000)


class ObjectionResolution(StrictModel):
    model_config = examples(
        *[{"outcome": "dismissed", "reason": "contract 2025-17 covers a different dataset"}]
    )

    outcome: Literal["upheld", "dismissed"]
    reason: str = Field(min_length=3, max_length=2000)


class ObjectionOut(BaseModel):
    id: uuid.UUID
    registration_id: uuid.UUID
    objector_id: uuid.UUID
    kind: str
    grounds: str
    status: str
    filed_at: datetime
    due_at: datetime
    overdue: bool = False
    resolved_at: datetime | None
    resolution_reason: str | None


class CalendarDayCreate(StrictModel):
    model_config = examples({"day": "2027-10-08", "kind": "holiday", "name": "国庆节调休"})

    day: date
    kind: Literal["holiday", "workday"]
    name: str = Field(min_length=1, max_length=100)


class CalendarDayOut(BaseModel):
    day: date
    kind: str
    name: str


class CalendarYearConfirm(StrictModel):
    model_config = examples({"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知"})

    year: int = Field(ge=2000, le=2200, examples=[2027])
    source: str = Field(
        min_length=3,
        max_length=300,
        description="The notice the year's days were entered from",
        examples=["国务院办公厅关于2027年部分节假日安排的通知"],
    )


class CalendarYearOut(BaseModel):
    year: int
    source: str
    confirmed_by: str


class CalendarYears(BaseModel):
    """Which years deadlines may be computed in: the package's, then operator-confirmed ones."""

    official_source: str
    official_first_year: int
    official_last_year: int
    confirmed: list[CalendarYearOut]
    known_through: int = Field(description="Deadlines reaching past the end of this year are refused")


class RegistryEntry(BaseModel):
    """What anyone can see and verify offline about a registration number."""

    registration_number: str
    status: str
    signed_certificate: dict[str, Any]
    exchange_public_key: str = Field(description="Base64 Ed25519 public key of the exchange")
    verification: str = "Ed25519 over b'market-cert-v1\\n' + canonical JSON of `certificate`"
