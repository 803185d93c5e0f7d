"""Sellers' price plans (自主定价, Art. 65) and the only discounts Art. 70 allows.

Each plan turns a quantity into itemised base lines; discounts are applied by `quote`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from pricing.money import CURRENCIES
from pricing.types import Percent, Price, Tier, check_tiers, graduated_total

MAX_NEW_CUSTOMER_DAYS = 365  # "a reasonable period" (Art. 70): at most a year


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewCustomerDiscount(_Strict):
    """New-user offer for a bounded period (Art. 70 exception)."""

    kind: Literal["new_customer"]
    pct: Percent
    valid_from: AwareDatetime
    valid_to: AwareDatetime

    @model_validator(mode="after")
    def _bounded(self) -> NewCustomerDiscount:
        days = (self.valid_to - self.valid_from).days
        if self.valid_to <= self.valid_from or days > MAX_NEW_CUSTOMER_DAYS:
            raise ValueError(f"a new-customer offer runs for 1..{MAX_NEW_CUSTOMER_DAYS} days")
        return self

    def applies(self, at: datetime, is_new_customer: bool) -> bool:
        return is_new_customer and self.valid_from <= at < self.valid_to


class VolumeDiscount(_Strict):
    """A lower price for genuinely larger needs, open to every buyer alike (Art. 70)."""

    kind: Literal["volume"]
    min_quantity: int = Field(ge=2)
    pct: Percent


class RandomAllocationDiscount(_Strict):
    """A discount won under published, fair random-allocation rules (Art. 70)."""

    kind: Literal["random_allocation"]
    rule_url: str = Field(min_length=8, max_length=500)
    pct: Percent


Discount = Annotated[
    NewCustomerDiscount | VolumeDiscount | RandomAllocationDiscount, Field(discriminator="kind")
]


class BaseLine(BaseModel):
    code: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class _Plan(_Strict):
    currency: str = "CNY"
    plan_version: int = Field(default=1, ge=1)
    discounts: tuple[Discount, ...] = ()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @model_validator(mode="after")
    def _one_discount_per_kind(self) -> _Plan:
        kinds = [d.kind for d in self.discounts]
        if len(kinds) != len(set(kinds)):
            raise ValueError("at most one discount of each kind")
        return self


class FixedPlan(_Plan):
    """A fixed price per unit."""

    kind: Literal["fixed"]
    unit_price: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        return [
            BaseLine(
                code="plan",
                description=f"{quantity} x {self.unit_price}",
                quantity=quantity,
                unit_price=self.unit_price,
                amount=self.unit_price * quantity,
            )
        ]


class OneOffPlan(_Plan):
    """One lump sum for a one-off licence, whatever the quantity."""

    kind: Literal["one_off"]
    price: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        return [
            BaseLine(
                code="plan",
                description="one-off licence",
                quantity=1,
                unit_price=self.price,
                amount=self.price,
            )
        ]


class TieredPlan(_Plan):
    """Volume tiers: `graduated` (each unit at its tier's price, 累进) or `volume`
    (every unit at the price of the tier the quantity reaches)."""

    kind: Literal["tiered"]
    style: Literal["graduated", "volume"]
    tiers: tuple[Tier, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _tiers(self) -> TieredPlan:
        check_tiers(self.tiers)
        return self

    def base_lines(self, quantity: int) -> list[BaseLine]:
        if self.style == "volume":
            tier = next(
                t
                for t in self.tiers
                if t.units_in(quantity) and (t.last_unit is None or quantity <= t.last_unit)
            )
            return [
                BaseLine(
                    code="tier",
                    description=f"all {quantity} units at tier from {tier.first_unit}",
                    quantity=quantity,
                    unit_price=tier.unit_price,
                    amount=tier.unit_price * quantity,
                )
            ]
        lines = []
        for t in self.tiers:
            n = t.units_in(quantity)
            if n:
                end = "+" if t.last_unit is None else f"-{t.last_unit}"
                lines.append(
                    BaseLine(
                        code="tier",
                        description=f"units {t.first_unit}{end} at {t.unit_price}",
                        quantity=n,
                        unit_price=t.unit_price,
                        amount=t.unit_price * n,
                    )
                )
        return lines


class MeteredPlan(_Plan):
    """Per unit (call, record, GB) with an optional included quota; overage above it."""

    kind: Literal["metered"]
    base_fee: Price = Decimal(0)
    included_units: int = Field(default=0, ge=0)
    overage_unit_price: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        lines = [
            BaseLine(
                code="base_fee",
                description=f"base fee incl. {self.included_units} units",
                quantity=1,
                unit_price=self.base_fee,
                amount=self.base_fee,
            )
        ]
        over = max(0, quantity - self.included_units)
        if over:
            lines.append(
                BaseLine(
                    code="overage",
                    description=f"{over} units over the included quota",
                    quantity=over,
                    unit_price=self.overage_unit_price,
                    amount=self.overage_unit_price * over,
                )
            )
        return lines


class SubscriptionPlan(_Plan):
    """A price per period; the quantity is the number of periods."""

    kind: Literal["subscription"]
    period: Literal["month", "quarter", "year"]
    price_per_period: Price

    def base_lines(self, quantity: int) -> list[BaseLine]:
        return [
            BaseLine(
                code="subscription",
                description=f"{quantity} {self.period}(s)",
                quantity=quantity,
                unit_price=self.price_per_period,
                amount=self.price_per_period * quantity,
            )
        ]


PricePlan = Annotated[
    FixedPlan | OneOffPlan | TieredPlan | MeteredPlan | SubscriptionPlan,
    Field(discriminator="kind"),
]
PRICE_PLAN = TypeAdapter(PricePlan)


def parse_plan(data: object) -> PricePlan:
    """Validate a plan from JSON-like data (raises pydantic.ValidationError naming the field)."""
    return PRICE_PLAN.validate_python(data)


def plan_total(plan: PricePlan, quantity: int) -> Decimal:
    return sum((line.amount for line in plan.base_lines(quantity)), Decimal(0))


def lowest_price(plan: PricePlan) -> Decimal:
    """An indicative "from" price: the total for one unit (catalogue filters)."""
    return plan_total(plan, 1)


__all__ = ["graduated_total"]
