"""One-line builders for pricing tests: a valid entry, plan or buyer unless told otherwise."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pricing import (
    AllocationWin,
    BuyerFacts,
    GuidedPriceEntry,
    PricePlan,
    QuotedTrade,
    TradeConditions,
    announce,
    parse_plan,
    reveal,
)

AT = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SEED = hashlib.sha256(b"pricing unit tests").hexdigest()


def entry(**over: Any) -> GuidedPriceEntry:
    """Traffic data per call: base 2.00 with band -20 % / +10 % (1.60 .. 2.20)."""
    data: dict[str, Any] = {
        "entry_id": "JL-PUB-TRAFFIC",
        "data_class": "traffic",
        "unit": "per_call",
        "mode": "band",
        "band_up_pct": "10",
        "band_down_pct": "20",
        "tiers": [{"first_unit": 1, "unit_price": "2.00"}],
        "effective_from": "2026-01-01T00:00:00Z",
        "legal_basis": "发改价格〔2025〕65号",
    }
    data.update(over)
    return GuidedPriceEntry.model_validate({k: v for k, v in data.items() if v is not None})


def ceiling_entry(**over: Any) -> GuidedPriceEntry:
    return entry(mode="ceiling", band_up_pct=None, band_down_pct=None, **over)


def disclosure_tiers() -> list[dict[str, Any]]:
    """国办函〔2020〕109号: requests 1-10 free, 11-30 at 100, then +100 per band of 10."""
    tiers: list[dict[str, Any]] = [
        {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
        {"first_unit": 11, "last_unit": 30, "unit_price": "100"},
    ]
    start, price = 31, 200
    while start < 101:
        tiers.append({"first_unit": start, "last_unit": start + 9, "unit_price": str(price)})
        start, price = start + 10, price + 100
    tiers.append({"first_unit": start, "unit_price": str(price)})
    return tiers


def disclosure_fee_schedule() -> GuidedPriceEntry:
    """The government information disclosure fee as a ceiling entry (国务院令711号 Art. 42)."""
    return ceiling_entry(
        entry_id="GOV-DISCLOSURE-FEE",
        data_class="information_disclosure",
        unit="per_report",
        tiers=disclosure_tiers(),
        legal_basis="国务院令711号 Art. 42; 国办函〔2020〕109号",
    )


def plan(**data: Any) -> PricePlan:
    data.setdefault("currency", "CNY")
    return parse_plan(data)


def facts(quantity: int = 1, purpose: str = "commercial_analytics", **over: Any) -> BuyerFacts:
    return BuyerFacts(purpose=purpose, quantity=quantity, at=over.pop("at", AT), **over)


SAME = TradeConditions(security="general", cost="api", credit="good", steps="standard", duration="365")


def trade(quote_id: str, buyer_id: str, total_minor: int, **over: Any) -> QuotedTrade:
    data: dict[str, Any] = {
        "quote_id": quote_id,
        "buyer_id": buyer_id,
        "conditions": SAME,
        "quantity": 10,
        "purpose": "commercial_analytics",
        "total_minor": total_minor,
        "plan_version": 1,
    }
    data.update(over)
    return QuotedTrade.model_validate(data)


@lru_cache(maxsize=16)
def allocation_win(rule: str = "LOTTERY-2026-01", entrant: str = "buyer-1") -> AllocationWin:
    """A verified draw in which every entrant wins, `entrant` among them."""
    entrants = [entrant, "buyer-2", "buyer-3"]
    announced = announce(
        draw_id="DRAW-1",
        rule=rule,
        subject="product-1",
        winners_wanted=len(entrants),
        seed=SEED,
        announced_at=AT - timedelta(days=10),
        opens_at=AT - timedelta(days=9),
        closes_at=AT - timedelta(days=2),
    )
    result = reveal(announced, SEED, entrants, AT - timedelta(days=1))
    return AllocationWin(result=result, entrant=entrant)
