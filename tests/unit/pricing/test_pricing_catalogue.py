"""Guided catalogue entries (Art. 65): shape, validation naming the field, the one in force."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from pricing import GuidedPriceEntry, entry_in_force
from tests.unit.pricing.pricing_factories import AT, ceiling_entry, entry


def test_band_bounds_are_base_minus_down_to_base_plus_up() -> None:
    assert entry().bounds(1) == (Decimal("1.60"), Decimal("2.20"))
    assert ceiling_entry().bounds(10) == (Decimal(0), Decimal("20.00"))


def test_shorthands_and_legacy_names_are_accepted() -> None:
    flat = entry(tiers=None, mode=None, base_price="3.00")
    assert flat.mode == "band" and flat.tiers[0].unit_price == Decimal("3.00")
    capped = entry(tiers=None, mode=None, band_up_pct=None, band_down_pct=None, ceiling="0.50")
    assert capped.mode == "ceiling" and capped.bounds(2) == (Decimal(0), Decimal("1.00"))
    legacy = entry(entry_id=None, entry_key="JL-OLD", purpose_reductions={"public_welfare": "100"})
    assert legacy.entry_id == legacy.entry_key == "JL-OLD"
    assert legacy.reduction_for("public_welfare") == 100
    assert GuidedPriceEntry.model_validate(legacy.model_dump(mode="json")) == legacy


def test_public_governance_and_welfare_are_free_by_default() -> None:
    e = entry()
    assert e.reduction_for("public_governance") == e.reduction_for("public_welfare") == 100
    assert e.reduction_for("commercial_analytics") == 0
    reduced = entry(
        purpose_rules=[{"purpose": "academic_research", "treatment": "reduced", "reduction_pct": "50"}]
    )
    assert reduced.reduction_for("academic_research") == 50


def _error(**over: Any) -> str:
    with pytest.raises(ValidationError) as info:
        entry(**over)
    return str(info.value)


@pytest.mark.parametrize(
    ("over", "names"),
    [
        (
            {
                "tiers": [
                    {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
                    {"first_unit": 5, "unit_price": "1"},
                ]
            },
            ["tiers", "overlap"],
        ),
        (
            {
                "tiers": [
                    {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
                    {"first_unit": 20, "unit_price": "1"},
                ]
            },
            ["tiers", "gap"],
        ),
        ({"tiers": [{"first_unit": 1, "unit_price": "-1"}]}, ["unit_price", "greater than"]),
        ({"band_down_pct": "-5"}, ["band_down_pct"]),
        ({"band_down_pct": "120"}, ["band_down_pct"]),
        ({"band_up_pct": None}, ["band_up_pct", "contains the base"]),
        ({"unit": "per_parsec"}, ["unit"]),
        ({"currency": "XYZ"}, ["currency", "XYZ"]),
        ({"effective_to": "2025-01-01T00:00:00Z"}, ["effective_to"]),
        ({"effective_from": "2026-01-01T00:00:00"}, ["effective_from", "timezone"]),
        ({"tiers": [{"first_unit": 1, "unit_price": 2.0}]}, ["unit_price", "float"]),
        ({"purpose_rules": [{"purpose": "x", "treatment": "reduced"}]}, ["reduction_pct"]),
    ],
)
def test_invalid_entries_name_the_field_and_reason(over: dict[str, Any], names: list[str]) -> None:
    message = _error(**over)
    for name in names:
        assert name in message


def test_the_entry_in_force_is_the_one_of_the_quote_time() -> None:
    v1 = entry(effective_to="2026-07-01T00:00:00Z")
    v2 = entry(
        version=2,
        effective_from="2026-07-01T00:00:00Z",
        tiers=[{"first_unit": 1, "unit_price": "3.00"}],
    )
    assert entry_in_force([v1, v2], "traffic", AT) == v1
    assert entry_in_force([v1, v2], "traffic", AT + timedelta(days=60)) == v2
    assert entry_in_force([v1, v2], "weather", AT) is None
    assert entry_in_force([entry(status="withdrawn")], "traffic", AT) is None
    assert entry_in_force([v1], "traffic", v1.effective_from - timedelta(seconds=1)) is None
