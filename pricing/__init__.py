"""Pure pricing library: exact money, government-guided entries (Jilin Big Data Regulation
Art. 65), sellers' autonomous plans, units of count, accumulation windows, itemised quotes,
the Art. 70 fairness check and random allocation.
No FastAPI, no SQLAlchemy, no `market` (pricing/ruff.toml). How the service uses it:
pricing/INTEGRATION.md."""

from pricing.adjustments import QuoteLine
from pricing.allocation import (
    AllocationAnnouncement,
    AllocationResult,
    AllocationWin,
    announce,
    draw,
    entrant_score,
    entrants_digest,
    make_commitment,
    new_seed,
    reveal,
    verify_reveal,
)
from pricing.catalogue import GuidedPriceEntry, PurposeRule, entry_in_force
from pricing.errors import PricingError
from pricing.fairness import FairnessFinding, QuotedTrade, TradeConditions, find_discrimination
from pricing.guided import PlanViolation, validate_plan_against_entry
from pricing.money import (
    CURRENCIES,
    Money,
    allocate,
    round_half_up_to_minor,
    round_parts,
    running_minor,
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
    cumulative_total,
    lowest_price,
    parse_plan,
    parse_plan_json,
    plan_total,
)
from pricing.quote import LAWFUL_DISCOUNT_CODES, BuyerFacts, Quote, effective_unit, effective_window, quote
from pricing.tiers import Tier, graduated_between, graduated_total, price_at
from pricing.units import Unit
from pricing.windows import BEIJING, AccumulationWindow, WindowSpan, WindowUsage, window_span

__all__ = [
    "BEIJING",
    "CURRENCIES",
    "LAWFUL_DISCOUNT_CODES",
    "PRICE_PLAN",
    "AccumulationWindow",
    "AllocationAnnouncement",
    "AllocationResult",
    "AllocationWin",
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
    "WindowSpan",
    "WindowUsage",
    "allocate",
    "announce",
    "cumulative_total",
    "draw",
    "effective_unit",
    "effective_window",
    "entrant_score",
    "entrants_digest",
    "entry_in_force",
    "find_discrimination",
    "graduated_between",
    "graduated_total",
    "lowest_price",
    "make_commitment",
    "new_seed",
    "parse_plan",
    "parse_plan_json",
    "plan_total",
    "price_at",
    "quote",
    "reveal",
    "round_half_up_to_minor",
    "round_parts",
    "running_minor",
    "sum_money",
    "validate_plan_against_entry",
    "verify_reveal",
    "window_span",
]
