"""Request and response models for prepaid accounts, top-ups and statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel, examples


class AccountCreate(StrictModel):
    model_config = examples({"participant_id": "6f1c2b9e-4a7d-4e2f-9b1a-3c5d7e9f0a12", "currency": "CNY"})

    participant_id: uuid.UUID
    currency: str = Field(default="CNY", pattern="^[A-Z]{3}$", description="ISO 4217 code.")


class AccountOut(BaseModel):
    id: uuid.UUID
    participant_id: uuid.UUID
    currency: str
    balance_minor: int = Field(description="What the buyer may spend now, in minor units (fen).")
    status: str
    opened_by: str
    created_at: datetime
    updated_at: datetime


class TopUpCreate(StrictModel):
    model_config = examples({"amount_minor": 500000, "method": "bank_transfer"})

    amount_minor: int = Field(ge=1, le=10**12, strict=True, description="Minor units (fen).")
    method: Literal["bank_transfer", "card"] = Field(
        description="bank_transfer: pay to the exchange quoting `reference`; an operator confirms "
        "it arrived. card: pay the Stripe PaymentIntent (`client_secret`); Stripe's report credits it."
    )


class TopUpOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    method: str
    amount_minor: int
    currency: str
    status: str
    reference: str
    client_secret: str | None
    requested_at: datetime
    completed_at: datetime | None


class StatementLineOut(BaseModel):
    id: uuid.UUID
    at: datetime
    kind: str = Field(description="top_up | charge (an order paid) | refund (an order's refund)")
    amount_minor: int = Field(description="+ credited to the balance, - taken from it")
    balance_after_minor: int
    order_id: uuid.UUID | None
    movement_id: uuid.UUID
