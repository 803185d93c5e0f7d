"""Sellers' price plans (自主定价, Art. 65) and the only discounts Art. 70 allows.

Jilin Big Data Regulation Art. 65: enterprise and personal data are priced autonomously; a plan
for paid public data must also stay inside its guided entry (`validate_plan_against_entry`).
Art. 70: no discriminatory pricing between counterparties on the same trade conditions, except
genuine differing needs under normal practice (`volume`), new-user offers for a reasonable
period (`new_customer`) and random allocation under published fair rules
(`random_allocation`), defined in `pricing.discounts`. Any other discount kind is refused at
validation.

Each plan turns a quantity into itemised base lines; `pricing.quote` applies purposes and
discounts. Amounts are decimal strings (or ints) in JSON; floats are refused.

JSON shape (discriminated on `kind`)::

    {"kind": "tiered", "style": "graduated", "currency": "CNY", "plan_version": 3,
     "tiers": [{"first_unit": 1, "last_unit": 100, "unit_price": "1.00"},
               {"first_unit": 101, "last_unit": null, "unit_price": "0.50"}],
     "discounts": [{"kind": "volume", "min_quantity": 1000, "pct": "5"}]}
    {"kind": "fixed", "unit_price": "2.50"}        {"kind": "one_off", "price": "999"}
    {"kind": "metered", "base_fee": "100", "included_units": 1000, "unit_price": "0",
     "overage_unit_price": "0.05"}
    {"kind": "subscription", "period": "month", "price_per_period": "300"}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Tag, TypeAdapter, field_validator

from pricing.discounts import (
    MAX_NEW_CUSTOMER_PERIOD,
    Discount,
    NewCustomerDiscount,
    RandomAllocationDiscount,
    VolumeDiscount,
)
from pricing.money import CURRENCIES
from pricing.types import Price, Tier, by_kind, check_tiers, graduated_total, show_price


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BaseLine(BaseModel):
    """One priced line before purposes and discounts; amounts exact (not yet rounded)."""

    code: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    reason: str


def _line(code: str, description: str, n: int, unit_price: Decimal, reason: str) -> BaseLine:
    return BaseLine(
        code=code,
        description=description,
        quantity=n,
        unit_price=unit_price,
        amount=unit_price * n,
        reason=reason,
    )


class _Plan(_Strict):
    currency: str = "CNY"
    plan_version: int = Field(default=1, ge=1)
    discounts: tuple[Discount, ...] = ()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}; known: {', '.join(CURRENCIES)}")
        return value

    @field_validator("discounts")
    @classmethod
    def _one_discount_per_kind(cls, value: tuple[Discount, ...]) -> tuple[Discount, ...]:
        kinds = [d.kind for d in value]
        if len(kinds) != len(set(kinds)):
            raise ValueError("at most one discount of each kind")
        return value


class FixedPlan(_Plan):
    """A fixed price per unit."""

    kind: Literal["fixed"]
    unit_price: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        price = show_price(self.unit_price)
        return [_line("plan", f"{quantity} x {price}", quantity, self.unit_price, f"at {price}")]


class OneOffPlan(_Plan):
    """One lump sum for a one-off licence, whatever the quantity."""

    kind: Literal["one_off"]
    price: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        return [_line("plan", "one-off licence", 1, self.price, "one-off price")]


class TieredPlan(_Plan):
    """Volume tiers: `graduated` (each unit at its tier's price, 累进) or `volume`
    (every unit at the price of the tier the quantity reaches)."""

    kind: Literal["tiered"]
    style: Literal["graduated", "volume"]
    tiers: tuple[Tier, ...] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        check_tiers(value)
        return value

    def base_lines(self, quantity: int) -> list[BaseLine]:
        if self.style == "volume":
            tier = next(t for t in self.tiers if t.contains(quantity))
            return [
                _line(
                    "tier",
                    f"all {quantity} units at tier {tier.label()}",
                    quantity,
                    tier.unit_price,
                    f"volume tier {tier.label()} at {show_price(tier.unit_price)}",
                )
            ]
        return [
            _line(
                "tier",
                f"units {tier.label()} at {show_price(tier.unit_price)}",
                n,
                tier.unit_price,
                f"tier {tier.label()} at {show_price(tier.unit_price)}",
            )
            for tier in self.tiers
            if (n := tier.units_in(quantity))
        ]


class MeteredPlan(_Plan):
    """Per unit (call, record, GB): an optional base fee, `included_units` at `unit_price`
    (0 = included in the fee), every unit above at `overage_unit_price` (default `unit_price`)."""

    kind: Literal["metered"]
    base_fee: Price = Decimal(0)
    included_units: int = Field(default=0, ge=0)
    unit_price: Price = Decimal(0)
    overage_unit_price: Price | None = None

    @property
    def overage_price(self) -> Decimal:
        return self.unit_price if self.overage_unit_price is None else self.overage_unit_price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        lines = []
        if self.base_fee or self.included_units:
            lines.append(
                _line(
                    "base_fee",
                    f"base fee incl. {self.included_units} units",
                    1,
                    self.base_fee,
                    "metered plan base fee",
                )
            )
        inside = min(quantity, self.included_units)
        if inside:
            lines.append(
                _line(
                    "included",
                    f"{inside} of {self.included_units} included units",
                    inside,
                    self.unit_price,
                    f"within the included quota at {show_price(self.unit_price)}",
                )
            )
        over = quantity - inside
        if over:
            lines.append(
                _line(
                    "overage" if self.included_units else "usage",
                    f"{over} units" + (" over the included quota" if self.included_units else ""),
                    over,
                    self.overage_price,
                    f"metered at {show_price(self.overage_price)} per unit",
                )
            )
        return lines


class SubscriptionPlan(_Plan):
    """A price per period; the quantity is the number of periods."""

    kind: Literal["subscription"]
    period: Literal["month", "quarter", "year"]
    price_per_period: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        price = show_price(self.price_per_period)
        return [
            _line(
                "subscription",
                f"{quantity} {self.period}(s)",
                quantity,
                self.price_per_period,
                f"subscription at {price} per {self.period}",
            )
        ]


PricePlan = Annotated[
    Annotated[FixedPlan, Tag("fixed")]
    | Annotated[OneOffPlan, Tag("one_off")]
    | Annotated[TieredPlan, Tag("tiered")]
    | Annotated[MeteredPlan, Tag("metered")]
    | Annotated[SubscriptionPlan, Tag("subscription")],
    by_kind("fixed", "one_off", "tiered", "metered", "subscription"),
]
PRICE_PLAN: TypeAdapter[PricePlan] = TypeAdapter(PricePlan)


def parse_plan(data: object) -> PricePlan:
    """Validate a plan from JSON-like data (raises pydantic.ValidationError naming the field)."""
    return PRICE_PLAN.validate_python(data)


def parse_plan_json(text: str | bytes) -> PricePlan:
    """Validate a plan from JSON text; a JSON float amount (12.5) is refused, "12.50" is not."""
    return PRICE_PLAN.validate_json(text)


def plan_total(plan: PricePlan, quantity: int) -> Decimal:
    """Exact total of the base lines for `quantity` units, before purposes and discounts."""
    return sum((line.amount for line in plan.base_lines(quantity)), Decimal(0))


def lowest_price(plan: PricePlan) -> Decimal:
    """An indicative "from" price: the total for one unit (catalogue filters)."""
    return plan_total(plan, 1)


__all__ = [
    "MAX_NEW_CUSTOMER_PERIOD",
    "PRICE_PLAN",
    "BaseLine",
    "Discount",
    "FixedPlan",
    "MeteredPlan",
    "NewCustomerDiscount",
    "OneOffPlan",
    "PricePlan",
    "RandomAllocationDiscount",
    "SubscriptionPlan",
    "TieredPlan",
    "VolumeDiscount",
    "graduated_total",
    "lowest_price",
    "parse_plan",
    "parse_plan_json",
    "plan_total",
]
