"""Request and response models for licences, deliveries and metered usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel


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
