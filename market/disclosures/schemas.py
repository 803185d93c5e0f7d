"""The public disclosures of paid public data (发改价格〔2025〕65号): fees, and the yearly report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from market.catalog.schemas import PriceEntryOut


class FeeOut(BaseModel):
    """One paid public data product's current price and the ceiling it rests on."""

    product_id: uuid.UUID
    title: str
    operator_id: uuid.UUID
    operator_name: str
    data_class: str
    unit: str | None
    currency: str
    price_plan: dict[str, Any] = Field(description="The product's price plan in force.")
    price_from_minor: int
    entry_key: str | None = Field(description="The guided entry (ceiling or band) in force for its class.")
    entry_version: int | None
    mode: str | None = Field(description="ceiling | band")
    accumulation: str | None
    ceiling_tiers: list[dict[str, Any]]
    legal_basis: str | None = Field(description="The document the ceiling rests on.")


class ResourceDisclosed(BaseModel):
    resource_id: uuid.UUID
    title: str
    price_catalogue_class: str | None
    mandate_document: str
    valid_from: datetime
    valid_to: datetime


class ProductDisclosed(BaseModel):
    product_id: uuid.UUID
    title: str
    data_class: str | None
    listing_status: str
    price_plan: dict[str, Any]
    fees_charged_minor: int = Field(description="Fees charged in the year, net of refunds (fen).")
    permitted_revenue_minor: int | None = Field(description="Maximum permitted revenue (65号), if recorded.")
    excess_minor: int | None
    carried_forward_minor: int | None


class OperatorDisclosed(BaseModel):
    operator_id: uuid.UUID
    name: str
    credit_code: str | None
    authorised_resources: list[ResourceDisclosed]
    products: list[ProductDisclosed]


class AnnualDisclosure(BaseModel):
    year: int
    due_by: str = Field(description="Disclosed by the end of March of the following year (65号).")
    legal_basis: str
    ceilings: list[PriceEntryOut] = Field(
        description="The guided ceilings the price authority published for the year."
    )
    operators: list[OperatorDisclosed]
