"""Published government tariffs shipped as example guided entries.

国办函〔2020〕109号, 政府信息公开信息处理费管理办法 (the information-processing fee for government
information disclosure requests), charged "by excess progression" (超额累进, Art. 3), by
request or by page, never both for one application:

- Art. 4, by request (件), per applicant per natural month: 1–10 free; 11–30 at 100 yuan each;
  from 31, bands of 10, each band 100 yuan per request dearer (31–40 at 200, 41–50 at 300 …).
- Art. 5, by page (页), per application: 1–30 free; 31–100 at 10; 101–200 at 20; 201+ at 40.
  Art. 5 counts the pages of one application, so its window is the order: each order starts
  again at page 1.

They are entered as ceilings (`mode: ceiling`): an operator may charge the tariff or less.
The free purposes of 发改价格〔2025〕65号 (public governance, public welfare) apply as for every
entry. `tariff_plan` gives the plan that charges exactly the tariff.
"""

from __future__ import annotations

from typing import Any

from pricing.catalogue import GuidedPriceEntry
from pricing.plans import TieredPlan, parse_plan

_IN_FORCE = "2021-01-01T00:00:00+08:00"  # the measures apply from 1 January 2021

GOV_INFO_FEE_PER_REQUEST = GuidedPriceEntry.model_validate(
    {
        "entry_id": "CN-GOV-INFO-FEE-PER-REQUEST",
        "data_class": "government_information_disclosure_requests",
        "unit": "per_request",
        "mode": "ceiling",
        "accumulation": "counterparty_month",
        "tiers": [
            {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
            {"first_unit": 11, "last_unit": 30, "unit_price": "100"},
            {"first_unit": 31, "unit_price": "200", "band_size": 10, "band_step": "100"},
        ],
        "effective_from": _IN_FORCE,
        "legal_basis": "国办函〔2020〕109号 Art. 4 (per applicant per natural month)",
    }
)

GOV_INFO_FEE_PER_PAGE = GuidedPriceEntry.model_validate(
    {
        "entry_id": "CN-GOV-INFO-FEE-PER-PAGE",
        "data_class": "government_information_disclosure_pages",
        "unit": "per_page",
        "mode": "ceiling",
        "accumulation": "per_order",
        "tiers": [
            {"first_unit": 1, "last_unit": 30, "unit_price": "0"},
            {"first_unit": 31, "last_unit": 100, "unit_price": "10"},
            {"first_unit": 101, "last_unit": 200, "unit_price": "20"},
            {"first_unit": 201, "unit_price": "40"},
        ],
        "effective_from": _IN_FORCE,
        "legal_basis": "国办函〔2020〕109号 Art. 5 (per application)",
    }
)

EXAMPLE_TARIFFS: tuple[GuidedPriceEntry, ...] = (GOV_INFO_FEE_PER_REQUEST, GOV_INFO_FEE_PER_PAGE)


def tariff_plan(entry: GuidedPriceEntry, **over: Any) -> TieredPlan:
    """The graduated plan that charges exactly `entry`'s reference price, in its unit and window."""
    data: dict[str, Any] = {
        "kind": "tiered",
        "style": "graduated",
        "currency": entry.currency,
        "unit": entry.unit.value,
        "accumulation": entry.accumulation.value,
        "tiers": [t.model_dump(mode="json") for t in entry.tiers],
    }
    plan = parse_plan(data | over)
    assert isinstance(plan, TieredPlan)
    return plan
