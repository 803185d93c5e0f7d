"""Pure pricing library: exact money, government-guided entries (Art. 65), sellers' plans,
itemised quotes and the Art. 70 fairness check. No FastAPI, no SQLAlchemy."""

from pricing.catalogue import GuidedPriceEntry, Unit, entry_in_force
from pricing.errors import PricingError
from pricing.fairness import FairnessFinding, QuotedTrade, TradeConditions, find_discrimination
from pricing.money import CURRENCIES, Money, allocate, round_half_up_to_minor, sum_money
from pricing.plans import PRICE_PLAN, PricePlan, lowest_price, parse_plan, plan_total
from pricing.quote import (
    BuyerFacts,
    PlanViolation,
    Quote,
    QuoteLine,
    quote,
    validate_plan_against_entry,
)
from pricing.types import Tier

__all__ = [
    "CURRENCIES",
    "PRICE_PLAN",
    "BuyerFacts",
    "FairnessFinding",
    "GuidedPriceEntry",
    "Money",
    "PlanViolation",
    "PricePlan",
    "PricingError",
    "Quote",
    "QuoteLine",
    "QuotedTrade",
    "Tier",
    "TradeConditions",
    "Unit",
    "allocate",
    "entry_in_force",
    "find_discrimination",
    "lowest_price",
    "parse_plan",
    "plan_total",
    "quote",
    "round_half_up_to_minor",
    "sum_money",
    "validate_plan_against_entry",
]
