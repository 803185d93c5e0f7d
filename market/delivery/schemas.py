"""Request and response models for licences, deliveries and metered usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from market.common.schemas import StrictModel, examples


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
    model_config = examples({"calls": 120})

    calls: int = Field(ge=1, le=1_000_000, strict=True)


class UsageOut(BaseModel):
    licence_id: uuid.UUID
    calls_used: int
    call_quota: int | None


class LicenceDeliveryOut(BaseModel):
    """What the buyer receives for a licence: a download token (file products) or the API
    credential (API products), with the quota. Fields that do not apply are left out."""

    # Deliveries grow (file lists, gateway addresses): what a newer service adds passes through.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "licence_id": "4af8a209-53ef-451f-a630-1e8cc019bc28",
                    "delivery_mode": "api",
                    "valid_to": "2027-12-30T16:00:31Z",
                    "access_credential": "dk_7b61547d9c244d6a_ynCv3PaH0NUKWSNVKLBmftvACcM1Z9Xn1y6ULHs4-nE",
                    "credential_prefix": "7b61547d9c244d6a",
                    "call_quota": 10000,
                    "calls_used": 0,
                    "calls_remaining": 10000,
                }
            ]
        },
    )

    licence_id: uuid.UUID
    delivery_mode: str = Field(description="`api` or `file`")
    valid_to: datetime
    download_token: str | None = Field(default=None, description="File products: a short-lived token.")
    download_token_expires_at: int | None = Field(
        default=None, description="File products: when the token expires (Unix seconds)."
    )
    access_credential: str | None = Field(
        default=None,
        description="API products: the credential for the delivery gateway, shown on the first read only.",
    )
    credential_prefix: str | None = Field(default=None, description="API products: names the credential.")
    call_quota: int | None = Field(default=None, description="API products: calls allowed (null: no quota).")
    calls_used: int | None = None
    calls_remaining: int | None = None
