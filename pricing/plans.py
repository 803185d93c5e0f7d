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

Optional on every plan (absent keys keep a stored plan's shape): `"unit"` (a unit of count,
`pricing.units`) and `"accumulation"` (`pricing.windows`): a fixed, metered or graduated plan
may price units marginally within a counterparty's calendar month or year; a one-off,
subscription or volume-tier plan has no marginal units and is per order only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Tag, TypeAdapter

from pricing.discounts import (
    MAX_NEW_CUSTOMER_PERIOD,
    Discount,
    NewCustomerDiscount,
    RandomAllocationDiscount,
    VolumeDiscount,
)
from pricing.lines import BaseLine
from pricing.plan_kinds import FixedPlan, MeteredPlan, OneOffPlan, SubscriptionPlan, TieredPlan
from pricing.tiers import graduated_total
from pricing.types import by_kind

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


def cumulative_total(plan: PricePlan, units: int) -> Decimal:
    """Exact price of the first `units` units of a window (0 for none, so a base fee is paid
    once, by the window's first order). Needs a marginal schedule."""
    schedule = plan.marginal_schedule()
    if schedule is None:
        raise ValueError(f"a {plan.kind} plan has no marginal units")
    return graduated_total(schedule, units)


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
    "cumulative_total",
    "graduated_total",
    "lowest_price",
    "parse_plan",
    "parse_plan_json",
    "plan_total",
]
