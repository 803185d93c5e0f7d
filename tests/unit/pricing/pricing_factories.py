from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pricing import BuyerFacts, GuidedPriceEntry, parse_plan

AT = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def entry(**over: Any) -> GuidedPriceEntry:
    data: dict[str, Any] = {
        "entry_key": "JL-PUB-TRAFFIC",
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
    return GuidedPriceEntry.model_validate(data)


def disclosure_fee_schedule() -> GuidedPriceEntry:
    """国办函〔2020〕109号: requests 1-10 free, 11-30 at 100, then +100 per band of 10."""
    tiers = [
        {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
        {"first_unit": 11, "last_unit": 30, "unit_price": "100"},
    ]
    start, price = 31, 200
    while start < 101:
        tiers.append({"first_unit": start, "last_unit": start + 9, "unit_price": str(price)})
        start, price = start + 10, price + 100
    tiers.append({"first_unit": start, "unit_price": str(price)})
    return entry(
        entry_key="GOV-DISCLOSURE-FEE",
        mode="ceiling",
        band_up_pct=None,
        band_down_pct=None,
        unit="per_report",
        tiers=tiers,
        legal_basis="国务院令711号 Art. 42; 国办函〔2020〕109号",
    )


def plan(**data: Any) -> Any:
    data.setdefault("currency", "CNY")
    return parse_plan(data)


def facts(quantity: int = 1, purpose: str = "commercial_analytics", **over: Any) -> BuyerFacts:
    return BuyerFacts(purpose=purpose, quantity=quantity, at=over.pop("at", AT), **over)
