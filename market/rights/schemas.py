"""Request and response models for right grants and the rights tree."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel, examples
from market.common.vocabulary import PurposeName


class GrantCreate(StrictModel):
    model_config = examples(
        {
            "parent_grant_id": "4d5e6f70-8192-4dae-9f2a-3b4c5d6e7f80",
            "kind": "operating",
            "holder_id": "5e6f7081-92a3-4ebf-a03b-4c5d6e7f8091",
            "subject_kind": "product",
            "subject_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "purposes": ["risk_control", "commercial_analytics"],
        },
        {
            "parent_grant_id": "4d5e6f70-8192-4dae-9f2a-3b4c5d6e7f80",
            "kind": "processing",
            "holder_id": "6f708192-a3b4-4fc0-b14c-5d6e7f8091a2",
            "subject_kind": "resource",
            "subject_id": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "purposes": ["academic_research"],
            "valid_to": "2027-12-31T23:59:59+08:00",
        },
    )

    parent_grant_id: uuid.UUID
    kind: Literal["processing", "operating"]
    holder_id: uuid.UUID
    subject_kind: Literal["resource", "product"]
    subject_id: uuid.UUID
    purposes: list[PurposeName] = Field(min_length=1)
    territory: Literal["domestic", "cross_border"] = "domestic"
    sublicensable: bool = False
    # Bounded (issue 18, finding 11): a grant names at most this many fields, each a name.
    field_limits: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=200
    )
    volume_limit: int | None = Field(default=None, ge=1, le=10**15, strict=True)
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class Revocation(StrictModel):
    model_config = examples({"reason": "the processing contract ended"})

    reason: str = Field(min_length=3, max_length=2000)
    refund_licences: bool = Field(
        default=False,
        description="The grantor accepts that paid, active licences resting on this right are "
        "refunded (pro rata for what their buyers have not had yet); without it such a "
        "revocation is refused with 409, naming them. An operator's revocation is forced and "
        "refunds them (or opens a dispute) regardless.",
    )


class AffectedLicence(BaseModel):
    licence_id: uuid.UUID
    order_id: uuid.UUID
    outcome: Literal["refund", "dispute"]
    refund_minor: int = Field(description="Refunded (fen), or proposed to the operator with the dispute")


class GrantOut(BaseModel):
    id: uuid.UUID
    kind: str
    holder_id: uuid.UUID
    granted_by_id: uuid.UUID | None
    resource_id: uuid.UUID
    subject_kind: str
    subject_id: uuid.UUID
    parent_id: uuid.UUID | None
    registration_id: uuid.UUID | None
    purposes: list[str]
    territory: str
    sublicensable: bool
    field_limits: list[str] | None
    volume_limit: int | None
    valid_from: datetime
    valid_to: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None


class RevocationOut(BaseModel):
    grant: GrantOut
    invalidated: list[str] = Field(description="Every grant that hangs from it (now invalid)")
    licences: list[AffectedLicence] = Field(
        default_factory=list, description="Paid licences that rested on it, and what became of each"
    )


class TreeNode(BaseModel):
    grant: GrantOut
    valid: bool
    reason: str | None
    message: str | None
    children: list[TreeNode] = Field(default_factory=list)


class RightsTree(BaseModel):
    resource_id: uuid.UUID
    at: datetime
    roots: list[TreeNode]
    total_grants: int = Field(default=0, description="Grants in the whole tree, on every page")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")
    extra: dict[str, Any] = Field(default_factory=dict)
