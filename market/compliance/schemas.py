"""Request and response models for compliance checks, reviews and facts on file."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from market.common.schemas import StrictModel, examples
from market.common.vocabulary import PurposeName
from market.compliance.decision import Decision


class CheckRequest(StrictModel):
    """A proposed listing or trade to dry-run through the rules."""

    model_config = examples(
        {
            "kind": "trade",
            "product_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "purpose": "risk_control",
            "scenario": "SME credit risk scoring",
        },
        {"kind": "listing", "product_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"},
    )

    kind: Literal["listing", "trade"]
    product_id: uuid.UUID
    purpose: PurposeName | None = None
    scenario: str | None = Field(default=None, min_length=1, max_length=200)
    cross_border: bool = False
    buyer_id: uuid.UUID | None = Field(
        default=None, description="Operators only: check a trade for this buyer."
    )

    @model_validator(mode="after")
    def _trade_needs_purpose(self) -> CheckRequest:
        if self.kind == "trade" and (self.purpose is None or self.scenario is None):
            raise ValueError("a trade check needs a purpose and a scenario")
        return self


class FindingOut(BaseModel):
    rule_id: str
    article: str
    outcome: str
    message_zh: str
    message_en: str
    details: dict[str, Any] = Field(default_factory=dict)


class DecisionOut(BaseModel):
    """A decision as the rules took it (a dry run), or as stored (then with its id, subject and
    review)."""

    id: uuid.UUID | None = None
    kind: str
    outcome: Literal["allow", "deny", "needs_review"]
    findings: list[FindingOut]
    ruleset_version: str
    facts: dict[str, Any]
    subject_type: str | None = None
    subject_id: str | None = None
    created_at: datetime | None = None
    review_status: str | None = None
    review_reason: str | None = None
    reviewed_by: str | None = None

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            kind=decision.kind,
            outcome=decision.outcome,
            findings=[FindingOut.model_validate(f.model_dump(mode="json")) for f in decision.findings],
            ruleset_version=decision.ruleset_version,
            facts=decision.facts,
        )


# What a buyer may learn of a trade check on another's product (issue 18, finding 10): its own
# side of the facts, and the findings of the rules about the trade; the product's and seller's
# (credit status, data classification) stay with the seller and the exchange.
_BUYER_FACTS = ("buyer", "purpose", "scenario", "cross_border", "licence_permitted_purposes")


def buyer_view(out: DecisionOut) -> DecisionOut:
    listing = out.facts.get("listing") or {}
    facts = {k: out.facts[k] for k in _BUYER_FACTS if k in out.facts}
    facts["listing"] = {k: listing[k] for k in ("product_id", "declared_scenarios") if k in listing}
    own = [f for f in out.findings if f.rule_id.startswith(("TRADE-", "PART-003", "PART-004"))]
    hidden = [f for f in out.findings if f not in own and f.outcome in ("deny", "review")]
    if hidden:
        worst = "deny" if any(f.outcome == "deny" for f in hidden) else "review"
        own.append(
            FindingOut(
                rule_id="PRODUCT",
                article="",
                outcome=worst,
                message_zh="该产品目前不能按此交易；原因已告知卖方和交易所。",
                message_en="The product cannot be traded this way now, for reasons of the product "
                "itself; its seller and the exchange are told them.",
            )
        )
    return out.model_copy(update={"facts": facts, "findings": own})


class MandateCreate(StrictModel):
    model_config = examples(
        {
            "resource_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "operator_id": "5e6f7081-92a3-4ebf-a03b-4c5d6e7f8091",
            "purposes": ["public_governance"],
            "conditions": "operated under the 2026 authorisation agreement",
            "revenue_share": "0.30",
            "document": "吉数授〔2026〕12号",
            "valid_from": "2026-01-01T00:00:00+08:00",
            "valid_to": "2028-12-31T23:59:59+08:00",
        }
    )

    resource_id: uuid.UUID
    operator_id: uuid.UUID = Field(description="The participant authorised to operate the data.")
    purposes: list[PurposeName] = Field(min_length=1)
    conditions: str = Field(min_length=1, max_length=4000)
    revenue_share: Decimal = Field(ge=0, le=1, description="Share to the public body, 0..1.")
    document: str = Field(min_length=1, max_length=500)
    valid_from: datetime
    valid_to: datetime

    @model_validator(mode="after")
    def _term(self) -> MandateCreate:
        if self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class MandateOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    operator_id: uuid.UUID
    purposes: list[str]
    conditions: str
    revenue_share: str
    document: str
    valid_from: datetime
    valid_to: datetime


class OpenApplicationCreate(StrictModel):
    model_config = examples(
        {
            "resource_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "purposes": ["academic_research"],
            "scope": "district-level aggregates for a 2027 study of SME survival",
        }
    )

    resource_id: uuid.UUID
    purposes: list[PurposeName] = Field(min_length=1)
    scope: str = Field(min_length=1, max_length=4000)


class OpenApplicationDecision(StrictModel):
    model_config = examples(
        {
            "decision": "approve",
            "conditions": "aggregates only; no re-identification",
            "reason": "purpose within the open class",
        }
    )

    decision: Literal["approve", "reject"]
    conditions: str | None = Field(default=None, max_length=4000)
    reason: str = Field(min_length=3, max_length=2000)


class OpenApplicationOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    applicant_id: uuid.UUID
    purposes: list[str]
    scope: str
    status: str
    conditions: str | None
    decision_reason: str | None


CrossBorderFiling = Literal["security_assessment", "standard_contract", "certification"]


class AssessmentCreate(StrictModel):
    model_config = examples(
        {
            "recipient_id": "6f708192-a3b4-4fc0-b14c-5d6e7f8091a2",
            "resource_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "kind": "standard_contract",
            "reference": "SC-2026-0042",
            "valid_until": "2027-12-31T23:59:59+08:00",
        }
    )

    recipient_id: uuid.UUID
    resource_id: uuid.UUID
    kind: CrossBorderFiling = Field(
        default="security_assessment",
        description="CAC security assessment, filed standard contract, or certification (PIPL Art. 38)",
    )
    reference: str = Field(min_length=3, max_length=120, description="Filing or approval number.")
    valid_until: datetime


class AssessmentOut(BaseModel):
    id: uuid.UUID
    recipient_id: uuid.UUID
    resource_id: uuid.UUID
    kind: str
    reference: str
    valid_until: datetime
