"""Pure pricing library: exact money, government-guided entries (Jilin Big Data Regulation
Art. 65), sellers' autonomous plans, itemised quotes and the Art. 70 fairness check.
No FastAPI, no SQLAlchemy, no `market` (pricing/ruff.toml)."""

from pricing.catalogue import GuidedPriceEntry, PurposeRule, Unit, entry_in_force
from pricing.errors import PricingError
from pricing.fairness import FairnessFinding, QuotedTrade, TradeConditions, find_discrimination
from pricing.guided import PlanViolation, validate_plan_against_entry
from pricing.money import (
    CURRENCIES,
    Money,
    allocate,
    round_half_up_to_minor,
    round_parts,
    sum_money,
)
from pricing.plans import (
    PRICE_PLAN,
    FixedPlan,
    MeteredPlan,
    NewCustomerDiscount,
    OneOffPlan,
    PricePlan,
    RandomAllocationDiscount,
    SubscriptionPlan,
    TieredPlan,
    VolumeDiscount,
    lowest_price,
    parse_plan,
    parse_plan_json,
    plan_total,
)
from pricing.quote import LAWFUL_DISCOUNT_CODES, BuyerFacts, Quote, QuoteLine, quote
from pricing.types import Tier

__all__ = [
    "CURRENCIES",
    "LAWFUL_DISCOUNT_CODES",
    "PRICE_PLAN",
    "BuyerFacts",
    "FairnessFinding",
    "FixedPlan",
    "GuidedPriceEntry",
    "MeteredPlan",
    "Money",
    "NewCustomerDiscount",
    "OneOffPlan",
    "PlanViolation",
    "PricePlan",
    "PricingError",
    "PurposeRule",
    "Quote",
    "QuoteLine",
    "QuotedTrade",
    "RandomAllocationDiscount",
    "SubscriptionPlan",
    "Tier",
    "TieredPlan",
    "TradeConditions",
    "Unit",
    "VolumeDiscount",
    "allocate",
    "entry_in_force",
    "find_discrimination",
    "lowest_price",
    "parse_plan",
    "parse_plan_json",
    "plan_total",
    "quote",
    "round_half_up_to_minor",
    "round_parts",
    "sum_money",
    "validate_plan_against_entry",
]
