"""How many quotes per second the pure pricing engine prices, against this machine's own pace.

Baseline, measured in the same run on the same quote: `json.dumps` of its JSON form (the least
work the service does with a quote anyway). The ratio says how many serialisations one quote
costs, which stays comparable across machines where raw rates do not.

    .venv/bin/python bench/bench_pricing.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, bench/ is first on sys.path; put the checkout first so `pricing` is this one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricing import BuyerFacts, GuidedPriceEntry, parse_plan, quote

AT = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)

# The 国办函〔2020〕109号 schedule as a ceiling entry, priced by a graduated plan at the ceiling
# with every lawful discount kind: the most work a realistic quote asks of the engine.
TIERS: list[dict[str, Any]] = [
    {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
    {"first_unit": 11, "last_unit": 30, "unit_price": "100"},
    *(
        {"first_unit": s, "last_unit": s + 9, "unit_price": str(100 * ((s - 11) // 10))}
        for s in range(31, 101, 10)
    ),
    {"first_unit": 101, "unit_price": "900"},
]
ENTRY = GuidedPriceEntry.model_validate(
    {
        "entry_id": "GOV-DISCLOSURE-FEE",
        "data_class": "information_disclosure",
        "unit": "per_report",
        "mode": "ceiling",
        "tiers": TIERS,
        "effective_from": "2026-01-01T00:00:00Z",
        "legal_basis": "国务院令711号 Art. 42; 国办函〔2020〕109号",
    }
)
PLAN = parse_plan(
    {
        "kind": "tiered",
        "style": "graduated",
        "tiers": TIERS,
        "discounts": [
            {"kind": "volume", "min_quantity": 50, "pct": "5"},
            {"kind": "random_allocation", "rule_id": "LOTTERY-1", "pct": "10"},
            {
                "kind": "new_customer",
                "pct": "10",
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2026-12-01T00:00:00Z",
            },
        ],
    }
)
FACTS = BuyerFacts(purpose="commercial", quantity=75, is_new_customer=True, lottery_won=True, at=AT)


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second of `work`, timed in batches until `seconds` have passed."""
    work()  # warm caches and lazy imports outside the clock
    calls, batch, start = 0, 64, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            work()
        calls += batch
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    sample = quote(PLAN, ENTRY, FACTS)
    assert sample.total_minor == sum(line.amount_minor for line in sample.lines)
    body = sample.model_dump(mode="json")

    baseline = rate(lambda: json.dumps(body, sort_keys=True), args.seconds)
    quotes = rate(lambda: quote(PLAN, ENTRY, FACTS), args.seconds)
    sealed = rate(lambda: quote(PLAN, ENTRY, FACTS).digest(), args.seconds)
    print(f"quote: {len(sample.lines)} lines, total {sample.total}")
    print(f"baseline json.dumps(quote)      {baseline:12,.0f} /s")
    print(f"quote()                         {quotes:12,.0f} /s  ratio {quotes / baseline:.3f}")
    print(f"quote() + canonical SHA-256     {sealed:12,.0f} /s  ratio {sealed / baseline:.3f}")


if __name__ == "__main__":
    main()
