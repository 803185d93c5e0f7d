"""Request and response models for participants, users, tokens and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from market.auth.passwords import NewPassword
from market.common.schemas import StrictModel, examples

ParticipantKind = Literal["organisation", "natural_person", "public_body"]
CreditStatus = Literal["good", "watch", "blacklisted"]
Jurisdiction = Literal["domestic", "foreign"]
ParticipantRole = Literal["seller", "buyer"]
VerificationStatus = Literal["pending_verification", "held", "verified", "declined"]


class FirstUser(StrictModel):
    email: EmailStr
    password: NewPassword
    display_name: str = Field(min_length=1, max_length=200)


class ParticipantCreate(StrictModel):
    model_config = examples(
        {
            "kind": "organisation",
            "name": "长春示例数据有限公司",
            "credit_code": "912201003AGYGLUY2G",
            "roles": ["seller", "buyer"],
            "user": {
                "email": "admin@example-data.cn",
                "password": "a-long-password-2026",
                "display_name": "Data admin",
            },
        }
    )

    kind: ParticipantKind
    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(
        default=None,
        max_length=64,
        description=(
            "Unified social credit code (GB 32100-2015); required for domestic organisations "
            "and public bodies. `market credit-code --example` prints valid test codes."
        ),
        # Valid, and not a demo participant's (signing up with that one would answer 409).
        examples=["912201003AGYGLUY2G"],
    )
    credit_code_override_reason: str | None = Field(
        default=None,
        min_length=10,
        max_length=1000,
        description="Operators only: register a code that fails its check digit, saying why.",
    )
    identity_number: str | None = Field(
        default=None,
        min_length=6,
        max_length=40,
        description="Natural persons: ID document number; stored only as a salted hash.",
    )
    jurisdiction: Jurisdiction = "domestic"
    country: str = Field(default="CN", pattern=r"^[A-Z]{2}$")
    roles: list[ParticipantRole] = Field(default_factory=lambda: ["seller", "buyer"], min_length=1)  # type: ignore[arg-type]
    legal_representative: str | None = Field(
        default=None, min_length=1, max_length=200, description="Organisations: the legal representative"
    )
    user: FirstUser

    @model_validator(mode="after")
    def _consistent(self) -> ParticipantCreate:
        if self.jurisdiction == "domestic" and self.country != "CN":
            raise ValueError("a domestic participant has country CN")
        if self.jurisdiction == "foreign" and self.country == "CN":
            raise ValueError("a foreign participant has a country other than CN")
        return self


class ParticipantOut(BaseModel):
    id: uuid.UUID
    kind: ParticipantKind
    name: str
    credit_code: str | None
    credit_code_override_reason: str | None
    jurisdiction: Jurisdiction
    country: str
    credit_status: CreditStatus
    credit_reason: str | None
    verification_status: VerificationStatus = "verified"
    verification_due_at: datetime | None = Field(
        default=None,
        description="While verification is pending or held: the end of the working day by which "
        "an operator decides it (`participant_verification_working_days` after sign-up)",
    )
    verification_overdue_at: datetime | None = Field(
        default=None, description="When the exchange found the decision overdue and alerted its operators"
    )
    created_at: datetime


class ParticipantCorrection(StrictModel):
    """Corrections of one's own details (PIPL Art. 46); the credit code and kind are not
    corrected here (a different code is a different organisation)."""

    model_config = examples({"name": "长春示例数据科技有限公司"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    identity_number: str | None = Field(
        default=None, min_length=6, max_length=40, description="Natural persons: stored only as a salted hash"
    )

    @model_validator(mode="after")
    def _something(self) -> ParticipantCorrection:
        if self.name is None and self.identity_number is None:
            raise ValueError("name or identity_number: say what to correct")
        return self


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    roles: list[str]


class SignUpOut(BaseModel):
    participant: ParticipantOut
    user: UserOut


class CreditChange(StrictModel):
    model_config = examples({"status": "watch", "reason": "two unresolved disputes in 2026"})

    status: CreditStatus
    reason: str = Field(min_length=5, max_length=2000)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    refresh_token: str | None = Field(
        default=None, description="Exchange at POST /v1/auth/refresh for a new pair; usable once"
    )
    refresh_expires_in: int | None = None


class RefreshIn(StrictModel):
    model_config = examples({"refresh_token": "rt_3f9c2a7e8b1d4c6f9a0e5b7d2c8f1a4e"})

    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(StrictModel):
    model_config = examples(
        {"current_password": "demo-password-2026", "new_password": "Changbai-snow-lake-27"}
    )

    current_password: str = Field(min_length=1, max_length=128)
    new_password: NewPassword


class ApiKeyCreate(StrictModel):
    model_config = examples({"name": "etl-nightly", "roles": ["buyer"]})

    name: str = Field(min_length=1, max_length=100)
    roles: list[ParticipantRole] = Field(default_factory=lambda: ["buyer"], min_length=1)  # type: ignore[arg-type]


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    roles: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key. Shown once; only its hash is stored.")


class StaffCreate(StrictModel):
    email: EmailStr
    password: NewPassword
    display_name: str = Field(min_length=1, max_length=200)
    role: Literal["operator", "auditor", "price_authority"]


class VerificationChecklist(StrictModel):
    """What the operator checked (the AWS Data Exchange subscription verification is the model:
    company, contact, intended use)."""

    identity_documents: bool = Field(description="Business licence / credit code / mandate seen")
    legal_representative: bool
    contact: bool = Field(description="The contact person and address answer")
    intended_use: bool


class VerificationDecision(StrictModel):
    model_config = examples(
        {
            "decision": "verify",
            "checklist": {
                "identity_documents": True,
                "legal_representative": True,
                "contact": True,
                "intended_use": True,
            },
            "reason": "business licence, legal representative and contact checked",
            "documents": ["business-licence-2026-0412.pdf"],
        }
    )

    decision: Literal["verify", "decline"]
    checklist: VerificationChecklist
    reason: str = Field(min_length=5, max_length=2000)
    documents: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=20, description="References of the documents relied on"
    )


class VerificationItem(BaseModel):
    participant: ParticipantOut
    legal_representative: str | None
    verification_note: str | None
    contact_emails: list[str]
