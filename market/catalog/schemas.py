"""Request and response models for the price catalogue, products, listings, catalogue, quotes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from contracts import LicenceTemplate
from market.common.eu_vocabularies import MEDIA_TYPE, DataTheme
from market.common.schemas import StrictModel, examples

DeliveryMode = Literal["file", "api", "sandbox"]
THEMES = "EU data themes (http://publications.europa.eu/resource/authority/data-theme), e.g. ECON"
MEDIA_TYPE_TEXT = "The IANA media type the data is delivered in, e.g. text/csv or application/json"


def _themes(value: list[str] | None) -> list[str]:
    if value is None:  # in an update, null clears the themes
        return []
    if len(set(value)) != len(value):
        raise ValueError("each theme once")
    return value


def _media_type(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not MEDIA_TYPE.match(value):
        raise ValueError("a media type is type/subtype, e.g. text/csv (RFC 6838)")
    return value


class PriceEntryCreate(StrictModel):
    """A guided price entry as the price authority publishes it (pricing.GuidedPriceEntry)."""

    model_config = examples(
        {
            "entry_key": "JL-PUB-ENTERPRISE-REG",
            "data_class": "enterprise_registry",
            "unit": "per_call",
            "mode": "band",
            "band_up_pct": "10",
            "band_down_pct": "20",
            "tiers": [
                {"first_unit": 1, "last_unit": 100, "unit_price": "0"},
                {"first_unit": 101, "unit_price": "1.00"},
            ],
            "effective_from": "2026-01-01T00:00:00+08:00",
            "legal_basis": "发改价格〔2025〕65号",
        }
    )

    entry_key: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    data_class: str = Field(min_length=1, max_length=80)
    unit: str
    currency: str = "CNY"
    mode: Literal["band", "ceiling"]
    tiers: list[dict[str, Any]] = Field(min_length=1)
    band_up_pct: Any = None
    band_down_pct: Any = None
    purpose_reductions: dict[str, Any] | None = None
    accumulation: Literal["per_order", "counterparty_month", "counterparty_year"] = Field(
        default="per_order",
        description="Over which window a counterparty's units add up before the tiers apply, in the "
        "Beijing calendar (e.g. per applicant per natural month, 国办函〔2020〕109号 Art. 4).",
    )
    effective_from: datetime
    effective_to: datetime | None = None
    legal_basis: str = Field(min_length=2, max_length=500)


class PriceEntryOut(BaseModel):
    id: uuid.UUID
    entry_key: str
    version: int
    data_class: str
    status: str
    effective_from: datetime
    effective_to: datetime | None
    legal_basis: str
    published_by: str
    body: dict[str, Any]
    withdrawal_reason: str | None


class PriceClassBinding(StrictModel):
    model_config = examples(
        {
            "data_class": "government_information_disclosure_requests",
            "reason": "authorised-operation mandate 2026-07 names this class",
        }
    )

    data_class: str = Field(min_length=1, max_length=80, description="A class with a guided entry in force.")
    reason: str = Field(min_length=3, max_length=2000, description="Why (e.g. the mandate or the decision).")


class Withdrawal(StrictModel):
    model_config = examples({"reason": "superseded by the 2027 catalogue"})

    reason: str = Field(min_length=3, max_length=2000)


def _product_example(delivery_mode: str, price_plan: dict[str, Any], media_type: str) -> dict[str, Any]:
    """One listing as a seller would send it, with only the delivery and the price plan varying."""
    return {
        "title": "长春中小企业经营指数",
        "description": "Monthly operating index of SMEs by district",
        "resource_ids": ["0f1e2d3c-4b5a-4697-8877-665544332211"],
        "delivery_mode": delivery_mode,
        "scenarios": ["SME credit risk scoring"],
        "price_plan": price_plan,
        "licence_template": {
            "permitted_purposes": ["risk_control", "commercial_analytics"],
            "scenarios": ["SME credit risk scoring"],
            "term_days": 365,
            "quota": 10000,
        },
        "themes": ["ECON"],
        "media_type": media_type,
    }


class ProductCreate(StrictModel):
    model_config = examples(
        _product_example(
            "api",
            {
                "kind": "metered",
                "base_fee": "500.00",
                "included_units": 1000,
                "unit_price": "0",
                "overage_unit_price": "0.20",
                "currency": "CNY",
            },
            "application/json",
        ),
        _product_example("file", {"kind": "one_off", "price": "2000.00", "currency": "CNY"}, "text/csv"),
        _product_example(
            "api", {"kind": "fixed", "unit_price": "2.00", "currency": "CNY"}, "application/json"
        ),
        _product_example(
            "api",
            {
                "kind": "tiered",
                "style": "graduated",
                "currency": "CNY",
                "tiers": [
                    {"first_unit": 1, "last_unit": 1000, "unit_price": "1.00"},
                    {"first_unit": 1001, "last_unit": None, "unit_price": "0.50"},
                ],
                "discounts": [{"kind": "volume", "min_quantity": 5000, "pct": "5"}],
            },
            "application/json",
        ),
        _product_example(
            "api",
            {"kind": "subscription", "period": "month", "price_per_period": "300.00", "currency": "CNY"},
            "application/json",
        ),
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    resource_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    delivery_mode: DeliveryMode
    scenarios: list[str] = Field(min_length=1, max_length=20, description="No scenario, no trade.")
    price_plan: dict[str, Any] = Field(
        description="A pricing plan: fixed, one_off, tiered, metered or subscription."
    )
    licence_template: LicenceTemplate
    exclusivity: Literal["non_exclusive", "exclusive"] = "non_exclusive"
    stock_limit: int | None = Field(default=None, ge=1, le=1_000_000_000, strict=True)
    price_catalogue_class: str | None = Field(default=None, max_length=80)
    themes: list[DataTheme] = Field(default_factory=list, max_length=13, description=THEMES)
    media_type: str | None = Field(default=None, max_length=255, description=MEDIA_TYPE_TEXT)

    _check_themes = field_validator("themes")(_themes)
    _check_media_type = field_validator("media_type")(_media_type)

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, value: list[str]) -> list[str]:
        cleaned = [s.strip() for s in value]
        if any(not s or len(s) > 200 for s in cleaned):
            raise ValueError("scenarios are non-empty texts of at most 200 characters")
        return cleaned


class ProductUpdate(StrictModel):
    model_config = examples(
        {
            "description": "Monthly operating index of SMEs, now with district names",
            "price_plan": {"kind": "fixed", "unit_price": "2.00", "currency": "CNY"},
        }
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    scenarios: list[str] | None = Field(default=None, min_length=1, max_length=20)
    price_plan: dict[str, Any] | None = None
    licence_template: LicenceTemplate | None = None
    stock_limit: int | None = Field(default=None, ge=1, le=1_000_000_000, strict=True)
    themes: list[DataTheme] | None = Field(default=None, max_length=13, description=THEMES)
    media_type: str | None = Field(default=None, max_length=255, description=MEDIA_TYPE_TEXT)

    _check_themes = field_validator("themes")(_themes)
    _check_media_type = field_validator("media_type")(_media_type)


class ProductOut(BaseModel):
    id: uuid.UUID
    seller_id: uuid.UUID
    title: str
    description: str
    resource_ids: list[uuid.UUID]
    delivery_mode: str
    scenarios: list[str]
    price_plan: dict[str, Any]
    plan_version: int
    currency: str
    price_from_minor: int
    licence_template: dict[str, Any]
    exclusivity: str
    stock_limit: int | None
    sold_count: int
    category: str
    grade: str
    price_catalogue_class: str | None
    themes: list[str]
    media_type: str | None
    listing_status: str
    listing_reason: str | None
    listed_at: datetime | None
    created_at: datetime


class ListingDecision(StrictModel):
    model_config = examples({"action": "list", "reason": "reviewed: scenario and rights in order"})

    action: Literal["list", "reject", "suspend", "delist"]
    reason: str = Field(min_length=3, max_length=2000)


class ListingOut(BaseModel):
    product: ProductOut
    compliance_outcome: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)
