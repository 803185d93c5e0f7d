"""Request and response models for orders, payments, licences and delivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from market.participants.schemas import StrictModel


class OrderCreate(StrictModel):
    quote_id: uuid.UUID


class OrderOut(BaseModel):
    id: uuid.UUID
    quote_id: uuid.UUID
    product_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    status: str
    status_reason: str | None
    total_minor: int = Field(description="Price in minor units (fen).")
    currency: str
    commission_minor: int
    seller_proceeds_minor: int
    purpose: str
    scenario: str
    quantity: str
    payment_provider: str
    payment_reference: str | None
    payment_client_secret: str | None = None
    licence_id: uuid.UUID | None
    created_at: datetime
    paid_at: datetime | None


class Reason(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)


class ReviewDecision(StrictModel):
    approve: bool
    reason: str = Field(min_length=3, max_length=2000)


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


class LicenceOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    product_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    status: str
    status_reason: str
    terms: dict[str, Any]
    valid_from: datetime
    valid_to: datetime


class UsageReport(StrictModel):
    calls: int = Field(ge=1, le=1_000_000, strict=True)


class UsageOut(BaseModel):
    licence_id: uuid.UUID
    calls_used: int
    call_quota: int | None
