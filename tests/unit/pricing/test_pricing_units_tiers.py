"""Units of count and open-ended band rules: labels, validation, exact prices at any volume."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from pricing import Tier, Unit, graduated_total, price_at
from pricing.tiers import MAX_ITEMISED_BANDS
from tests.unit.pricing.pricing_factories import entry, plan

# 国办函〔2020〕109号 Art. 4 as tiers: 1–10 free, 11–30 at 100, then +100 per band of 10.
REQUEST_TIERS: list[dict[str, Any]] = [
    {"first_unit": 1, "last_unit": 10, "unit_price": "0"},
    {"first_unit": 11, "last_unit": 30, "unit_price": "100"},
    {"first_unit": 31, "unit_price": "200", "band_size": 10, "band_step": "100"},
]


def tiers(data: list[dict[str, Any]]) -> list[Tier]:
    return [Tier.model_validate(t) for t in data]


def brute_force(quantity: int) -> int:
    """The 109号 per-request fee in yuan, one request at a time, as the text reads."""
    total = 0
    for n in range(1, quantity + 1):
        total += 0 if n <= 10 else 100 if n <= 30 else 200 + 100 * ((n - 31) // 10)
    return total


@pytest.mark.parametrize(
    ("given", "unit"),
    [
        ("per_request", Unit.PER_REQUEST),
        ("request", Unit.PER_REQUEST),
        ("件", Unit.PER_REQUEST),
        ("pages", Unit.PER_PAGE),
        ("页", Unit.PER_PAGE),
        ("record", Unit.PER_RECORD),
        ("call", Unit.PER_CALL),
        ("GB", Unit.PER_GB),
        ("month", Unit.PER_MONTH),
        ("per_report", Unit.PER_REPORT),
    ],
)
def test_units_accept_english_chinese_and_stored_names(given: str, unit: Unit) -> None:
    assert Unit(given) is unit
    assert entry(unit=given).unit is unit
    assert entry(unit=given).model_dump(mode="json")["unit"] == unit.value  # stored canonically


def test_unit_labels_name_the_units_in_both_languages() -> None:
    assert Unit.PER_REQUEST.en_range(11, 20) == "requests 11–20"
    assert Unit.PER_REQUEST.zh_range(11, 20) == "第11–20件"
    assert Unit.PER_PAGE.en_range(7, 7) == "page 7" and Unit.PER_PAGE.zh_range(7, 7) == "第7页"
    assert Unit.PER_GB.zh_range(1, 5) == "1–5 GB" and Unit.PER_RECORD.zh == "条"
    assert Unit.PER_CALL.en_count(1) == "1 call" and Unit.PER_CALL.en_count(3) == "3 calls"
    with pytest.raises(ValueError, match="parsec"):
        Unit("parsec")


def test_open_ended_bands_are_exact_at_any_volume() -> None:
    schedule = tiers(REQUEST_TIERS)
    for q in [*range(0, 130), 999, 1000, 1001]:
        assert graduated_total(schedule, q) == brute_force(q), q
    # Far beyond any finite list of tiers, in closed form: k full bands of 10 from unit 31.
    q = 30 + 10 * 10**9
    k = 10**9
    expected = 2000 + 10 * (200 * k + 100 * k * (k - 1) // 2)
    assert graduated_total(schedule, q) == expected
    assert price_at(schedule, 31) == 200 and price_at(schedule, 40) == 200
    assert price_at(schedule, 41) == 300 and price_at(schedule, 10**6) == 200 + 100 * ((10**6 - 31) // 10)


def test_a_huge_quantity_is_itemised_in_a_few_exact_lines() -> None:
    p = plan(kind="tiered", style="graduated", tiers=REQUEST_TIERS, unit="per_request")
    lines = p.base_lines(100_005)
    tail = lines[2:]
    assert len(tail) == MAX_ITEMISED_BANDS
    assert sum(line.amount for line in lines) == brute_force(100_005)
    summary = tail[-2]
    assert summary.quantity % 10 == 0 and "bands of 10 from" in summary.description
    assert summary.amount == summary.unit_price * summary.quantity
    # unit 100001 is in band (100001 - 31) // 10 = 9997 of the tail: 200 + 9997 x 100
    assert tail[-1].description == "requests 100001–100005: 5 × 999900.00"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (
            {"first_unit": 11, "last_unit": 30, "unit_price": "1", "band_size": 10, "band_step": "1"},
            "open-ended",
        ),
        ({"first_unit": 11, "unit_price": "1", "band_size": 10}, "both"),
        ({"first_unit": 11, "unit_price": "1", "band_step": "1"}, "both"),
        ({"first_unit": 11, "unit_price": "1", "band_size": 10, "band_step": "0"}, "above 0"),
        ({"first_unit": 11, "unit_price": "1", "band_size": 10, "band_step": "-5"}, "band_step"),
        ({"first_unit": 11, "unit_price": "1", "band_size": 0, "band_step": "5"}, "band_size"),
        ({"first_unit": 11, "unit_price": "1", "band_size": 10, "band_step": 1.5}, "float"),
    ],
)
def test_band_rules_are_validated_naming_the_field(bad: dict[str, Any], says: str) -> None:
    schedule = [{"first_unit": 1, "last_unit": 10, "unit_price": "0"}, bad]
    with pytest.raises(ValidationError, match=says):
        entry(tiers=schedule)
    with pytest.raises(ValidationError, match=says):
        plan(kind="tiered", style="graduated", tiers=schedule)


def test_overlaps_and_gaps_are_refused_with_band_rules_too() -> None:
    overlap = [REQUEST_TIERS[0], {**REQUEST_TIERS[2], "first_unit": 5}]
    gap = [REQUEST_TIERS[0], {**REQUEST_TIERS[2], "first_unit": 15}]
    with pytest.raises(ValidationError, match="overlap"):
        entry(tiers=overlap)
    with pytest.raises(ValidationError, match="gap"):
        entry(tiers=gap)


def test_stored_shapes_only_grow_where_the_new_options_are_used() -> None:
    flat = plan(kind="tiered", style="graduated", tiers=[{"first_unit": 1, "unit_price": "2"}])
    dumped = flat.model_dump(mode="json")
    assert "unit" not in dumped and "accumulation" not in dumped
    assert dumped["tiers"] == [{"first_unit": 1, "last_unit": None, "unit_price": "2"}]
    banded = entry(tiers=REQUEST_TIERS, unit="件", mode="ceiling", band_up_pct=None, band_down_pct=None)
    body = banded.model_dump(mode="json")
    assert body["tiers"][2]["band_size"] == 10 and body["tiers"][2]["band_step"] == "100"
    assert body["unit"] == "per_request" and body["accumulation"] == "per_order"
    assert type(banded).model_validate(body) == banded


def test_plans_declare_units_and_windows_only_where_units_are_marginal() -> None:
    fixed = plan(kind="fixed", unit_price="2", unit="call", accumulation="counterparty_month")
    assert (
        fixed.unit is Unit.PER_CALL and fixed.model_dump(mode="json")["accumulation"] == "counterparty_month"
    )
    for bad in (
        {"kind": "one_off", "price": "9"},
        {"kind": "subscription", "period": "month", "price_per_period": "9"},
        {"kind": "tiered", "style": "volume", "tiers": [{"first_unit": 1, "unit_price": "1"}]},
    ):
        with pytest.raises(ValidationError, match="accumulation: only a fixed, metered or graduated"):
            plan(**bad, accumulation="counterparty_year")
        assert plan(**bad, accumulation="per_order").accumulation is not None


def test_volume_style_with_a_band_rule_prices_every_unit_at_the_reached_band() -> None:
    p = plan(kind="tiered", style="volume", tiers=REQUEST_TIERS)
    assert [line.amount for line in p.base_lines(45)] == [Decimal(45 * 300)]
