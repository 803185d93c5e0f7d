"""Request and response models for data-subject requests, contact verification and licensee
obligations."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from market.common.schemas import StrictModel, examples
from market.privacy.states import RequestKind

MAINLAND_MOBILE = re.compile(r"^(\+86|0086)?1[3-9]\d{9}$")
_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)


class ContactVerificationCreate(StrictModel):
    model_config = examples({"channel": "email", "contact": "li.ming@example.cn"})

    channel: Literal["email", "sms"]
    contact: str = Field(
        min_length=3, max_length=254, description="An e-mail address, or a mainland mobile number for sms"
    )

    @field_validator("contact")
    @classmethod
    def _contact_fits_channel(cls, value: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel == "sms" and not MAINLAND_MOBILE.match(re.sub(r"[\s\-()]", "", value)):
            raise ValueError("not a mainland mobile number (11 digits starting 13-19)")
        if channel == "email":
            try:
                _EMAIL.validate_python(value)
            except ValidationError as exc:
                raise ValueError("not an e-mail address") from exc
        return value


class ContactVerificationOut(BaseModel):
    id: uuid.UUID
    channel: str
    sent_to: str = Field(description="The contact, masked")
    expires_at: datetime


class CodeConfirmation(StrictModel):
    model_config = examples({"code": "482913"})

    code: str = Field(pattern=r"^\d{6}$")


class RequesterToken(BaseModel):
    requester_token: str = Field(description="Send as X-Requester-Token; shown once, stored hashed")
    expires_at: datetime


class SubjectRequestCreate(StrictModel):
    model_config = examples(
        {
            "kind": "access",
            "resource_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "details": "which of my records does this resource hold?",
            "subject_identifiers": "mobile 138****1234, customer number 88012",
        }
    )

    kind: RequestKind
    resource_id: uuid.UUID | None = Field(default=None, description="The resource holding your data")
    seller_id: uuid.UUID | None = Field(
        default=None, description="Or the seller, when you do not know which resource holds your data"
    )
    details: str = Field(
        min_length=3,
        max_length=4000,
        description="What you ask for (for a correction: what is wrong and what is right)",
    )
    subject_identifiers: str = Field(
        min_length=2,
        max_length=1000,
        description="What the seller needs to find your records (e.g. the phone number they hold); "
        "only the seller and the exchange's operators see it",
    )

    @model_validator(mode="after")
    def _target(self) -> SubjectRequestCreate:
        if self.resource_id is None and self.seller_id is None:
            raise ValueError("name the resource_id holding your data, or the seller_id")
        return self


class SubjectRequestAnswer(StrictModel):
    model_config = examples(
        {
            "outcome": "fulfilled",
            "response": "we hold two records about you; copies attached",
            "resource_ids": ["0f1e2d3c-4b5a-4697-8877-665544332211"],
        }
    )

    outcome: Literal["fulfilled", "refused"]
    response: str = Field(
        min_length=3, max_length=8000, description="What was done, or where the copy can be fetched"
    )
    reasons: list[str] = Field(
        default_factory=list,
        max_length=10,
        validate_default=True,
        description="Why it is refused (required to refuse, PIPL Art. 50)",
    )
    resource_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="A withdrawal or deletion: the resources the person's data is taken out of "
        "(defaults to the request's resource)",
    )

    @field_validator("reasons")
    @classmethod
    def _refusal_gives_reasons(cls, value: list[str], info: ValidationInfo) -> list[str]:
        reasons = [r.strip() for r in value if r.strip()]
        if info.data.get("outcome") == "refused" and not reasons:
            raise ValueError("a refusal states its reasons (PIPL Art. 50)")
        if any(len(r) > 2000 for r in reasons):
            raise ValueError("each reason is at most 2000 characters")
        return reasons


class Escalation(StrictModel):
    model_config = examples({"reason": "the seller refused without a reason"})

    reason: str = Field(min_length=10, max_length=4000)


class SubjectRequestDecision(StrictModel):
    model_config = examples(
        {
            "outcome": "upheld",
            "reason": "consent was withdrawn in writing on 2026-11-02",
            "resource_ids": ["0f1e2d3c-4b5a-4697-8877-665544332211"],
        }
    )

    outcome: Literal["upheld", "dismissed"]
    reason: str = Field(min_length=3, max_length=4000)
    resource_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="An upheld withdrawal or deletion: the seller's resources it takes effect on",
    )


class SubjectRequestOut(BaseModel):
    """A request as the person, the seller and operators see it (never public)."""

    id: uuid.UUID
    kind: str
    article: str
    status: str
    seller_id: uuid.UUID
    resource_id: uuid.UUID | None
    verified_by: Literal["account", "email", "sms"]
    verified_contact: str | None
    details: str
    subject_identifiers: str
    filed_at: datetime
    due_at: datetime
    overdue: bool
    warn_at: datetime = Field(description="The seller is warned from then on")
    warned_at: datetime | None
    answered_at: datetime | None
    response: str | None
    refusal_reasons: list[str] | None
    affected_resource_ids: list[str] | None
    escalated_at: datetime | None
    escalation_cause: str | None
    escalation_reason: str | None
    decided_at: datetime | None
    decision_reason: str | None


class Acknowledgement(StrictModel):
    model_config = examples(
        {
            "outcome": "deleted",
            "statement": "the person's records were deleted from our copies on 2026-11-20",
        }
    )

    outcome: Literal["deleted", "stopped_using"]
    statement: str = Field(min_length=10, max_length=4000, description="What was deleted or stopped, and how")


class ObligationResolution(StrictModel):
    model_config = examples(
        *[{"action": "close", "reason": "deletion confirmed by the licensee's audit report"}]
    )

    action: Literal["revoke_licence", "close"]
    reason: str = Field(min_length=10, max_length=4000)


class ObligationOut(BaseModel):
    id: uuid.UUID
    licence_id: uuid.UUID
    licensee_id: uuid.UUID
    seller_id: uuid.UUID
    product_id: uuid.UUID
    resource_id: uuid.UUID
    cause_type: str
    cause_id: uuid.UUID
    cause_kind: str
    required: str
    status: str
    due_at: datetime
    overdue: bool
    acknowledged_at: datetime | None
    outcome: str | None
    statement: str | None
    escalated_at: datetime | None
    resolution: str | None
    resolution_reason: str | None
    created_at: datetime
