"""Request and response models for orders, payments, licences and delivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from market.common.schemas import StrictModel, examples
from market.common.vocabulary import PurposeName

# Quantities are whole units (a quote asks for an integer); stored as text, never a float, and
# answered as the integer that was asked for.
WholeQuantity = Annotated[int, BeforeValidator(lambda v: int(Decimal(str(v))))]


class OrderCreate(StrictModel):
    model_config = examples({"quote_id": "2b3c4d5e-6f70-4b8c-9d0e-1f2a3b4c5d6e"})

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
    quantity: WholeQuantity
    payment_provider: str
    payment_reference: str | None
    payment_client_secret: str | None = None
    licence_id: uuid.UUID | None
    created_at: datetime
    paid_at: datetime | None
    window_key: str | None = Field(
        default=None, description="The accumulation window its units count in (month:2026-06), if any."
    )
    window_units: int | None = Field(default=None, description="Units it holds in that window.")
    allocation_draw_id: uuid.UUID | None = Field(
        default=None, description="The exchange's random-allocation draw whose win it used (Art. 70)."
    )


class Reason(StrictModel):
    model_config = examples({"reason": "ordered the wrong quantity"})

    reason: str = Field(min_length=3, max_length=2000)


class ReviewDecision(StrictModel):
    model_config = examples({"approve": True, "reason": "buyer's purpose confirmed by phone"})

    approve: bool
    reason: str = Field(min_length=3, max_length=2000)


class QuoteCreate(StrictModel):
    model_config = examples(
        {
            "product_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "quantity": 3000,
            "purpose": "risk_control",
            "scenario": "SME credit risk scoring",
        }
    )

    product_id: uuid.UUID
    quantity: int = Field(ge=1, le=1_000_000_000, strict=True)
    purpose: PurposeName
    scenario: str = Field(min_length=1, max_length=200)
    cross_border: bool = False
    lottery_won: bool = Field(
        default=False,
        description="Not the buyer's to say: true is refused (422). A random-allocation discount "
        "comes only from the exchange's published draw (Art. 70).",
    )


class QuoteOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    buyer_id: uuid.UUID
    quantity: WholeQuantity
    purpose: str
    scenario: str
    lines: list[dict[str, Any]]
    total_minor: int
    currency: str
    unit: str | None = Field(default=None, description="The unit of count (per_request, per_page, ...).")
    window: dict[str, Any] | None = Field(
        default=None,
        description="The accumulation window the units were priced in: its key (month:2026-06), the "
        "buyer's units already counted (prior_units) and the units this order adds.",
    )
    plan_version: int
    price_entry_key: str | None
    price_entry_version: int | None
    compliance_outcome: str | None
    digest: str
    issued_at: datetime
    expires_at: datetime
    status: str = Field(default="open", description="open | ordered | expired (by the expiry job)")


class TradeTotals(BaseModel):
    """Settled trades of one Beijing-calendar period, data category and currency."""

    period: str
    category: str
    currency: str
    trades: int
    value_minor: int
    commission_minor: int
    refunded_trades: int
