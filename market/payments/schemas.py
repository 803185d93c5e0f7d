"""Request and response models for refunds and the settlement ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel


class RefundCreate(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)
    amount_minor: int | None = Field(
        default=None, ge=1, strict=True, description="Default: all that remains."
    )


class RefundOut(BaseModel):
    id: uuid.UUID
    amount_minor: int
    status: str
    reason: str


class LedgerLineOut(BaseModel):
    movement_id: uuid.UUID
    kind: str
    account: str
    amount_minor: int = Field(description="+ debit, - credit; every movement sums to zero")
    currency: str
    created_at: datetime


class LedgerOut(BaseModel):
    order_id: uuid.UUID
    balanced: bool
    lines: list[LedgerLineOut]
