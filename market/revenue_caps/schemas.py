"""Request and response models for revenue caps (发改价格〔2025〕65号)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel, examples
from pricing.types import Currency

LEGAL_BASIS = "发改价格〔2025〕65号"
MAX_MINOR = 10**15


class CapRecord(StrictModel):
    """The maximum permitted revenue approved for a product and year: operating cost + permitted
    profit + tax (65号 三), in fen. Excess of the year before is deducted by the exchange."""

    model_config = examples(
        {
            "currency": "CNY",
            "operating_cost_minor": 80000000,
            "permitted_profit_minor": 8000000,
            "tax_minor": 5280000,
        }
    )

    currency: Currency = Field(default="CNY")
    operating_cost_minor: int = Field(ge=0, le=MAX_MINOR, strict=True)
    permitted_profit_minor: int = Field(ge=0, le=MAX_MINOR, strict=True)
    tax_minor: int = Field(ge=0, le=MAX_MINOR, strict=True)
    legal_basis: str = Field(default=LEGAL_BASIS, min_length=2, max_length=500)


class CapOut(BaseModel):
    product_id: uuid.UUID
    year: int
    currency: str
    operating_cost_minor: int
    permitted_profit_minor: int
    tax_minor: int
    deduction_minor: int = Field(description="Excess of earlier years deducted (65号 四).")
    approved_minor: int
    permitted_minor: int
    revenue_minor: int = Field(description="Fees charged in the year, net of refunds.")
    remaining_minor: int
    excess_minor: int
    reached_pct: list[int] = Field(description="Thresholds reached: 80 (early warning), 100 (cap).")
    closed: bool
    carried_forward_minor: int | None
    legal_basis: str
