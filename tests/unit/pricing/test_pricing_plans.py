"""Autonomous plans (Art. 65) by example, and the only discounts Art. 70 allows."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pricing import parse_plan_json, quote
from tests.unit.pricing.pricing_factories import allocation_win, facts, plan

TIERS = [
    {"first_unit": 1, "last_unit": 100, "unit_price": "1.00"},
    {"first_unit": 101, "unit_price": "0.50"},
]
NEW_CUSTOMER = {
    "kind": "new_customer",
    "pct": "20",
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_to": "2026-12-31T00:00:00Z",
}


def total(p: Any, quantity: int, **over: Any) -> int:
    return quote(p, None, facts(quantity, **over)).total_minor


def test_fixed_and_one_off() -> None:
    assert total(plan(kind="fixed", unit_price="2.50"), 4) == 1000
    assert total(plan(kind="one_off", price="999"), 7) == 99900


def test_metered_with_included_quota_and_overage() -> None:
    quota = plan(kind="metered", base_fee="100", included_units=1000, overage_unit_price="0.05")
    assert total(quota, 900) == 10000
    assert total(quota, 1200) == 10000 + 1000
    pay_as_you_go = plan(kind="metered", unit_price="0.003")
    assert total(pay_as_you_go, 1000) == 300
    committed = plan(kind="metered", included_units=10, unit_price="1", overage_unit_price="2")
    assert total(committed, 15) == 10 * 100 + 5 * 200


def test_subscription_charges_per_period() -> None:
    assert total(plan(kind="subscription", period="month", price_per_period="300"), 3) == 90000
    assert total(plan(kind="subscription", period="year", price_per_period="3000"), 1) == 300000


def test_graduated_and_volume_tiers() -> None:
    graduated = plan(kind="tiered", style="graduated", tiers=TIERS)
    volume = plan(kind="tiered", style="volume", tiers=TIERS)
    assert total(graduated, 150) == 100 * 100 + 50 * 50
    assert total(volume, 150) == 150 * 50
    assert total(volume, 100) == 100 * 100
    lines = quote(graduated, None, facts(150)).lines
    assert [line.quantity for line in lines] == [100, 50]
    assert [line.reason for line in lines] == ["tier 1–100 at 1.00", "tier 101+ at 0.50"]


def test_new_customer_offer_only_inside_its_window() -> None:
    p = plan(kind="fixed", unit_price="10", discounts=[NEW_CUSTOMER])
    assert total(p, 1, is_new_customer=True) == 800
    assert total(p, 1, is_new_customer=False) == 1000
    late = facts(1, is_new_customer=True, at=facts().at.replace(year=2027))
    assert quote(p, None, late).total_minor == 1000
    line = quote(p, None, facts(1, is_new_customer=True)).lines[-1]
    assert line.code == "new_customer" and line.amount_minor == -200
    assert line.reason.startswith("new-customer discount 20%") and "Art. 70" in line.reason


def test_volume_and_random_allocation_discounts() -> None:
    p = plan(
        kind="fixed",
        unit_price="10",
        discounts=[
            {"kind": "volume", "min_quantity": 100, "pct": "5"},
            {"kind": "random_allocation", "pct": "50", "rule_id": "LOTTERY-2026-01"},
        ],
    )
    assert total(p, 99) == 99000
    assert total(p, 100) == 95000
    assert total(p, 1, allocation_win=allocation_win()) == 500
    assert "LOTTERY-2026-01" in quote(p, None, facts(1, allocation_win=allocation_win())).lines[-1].reason
    # A win in a draw under another published rule earns nothing under this plan's rule.
    assert total(p, 1, allocation_win=allocation_win(rule="OTHER-DRAW")) == 1000
    stacked = quote(p, None, facts(100, allocation_win=allocation_win()))
    assert stacked.total_minor == 100000 - 5000 - 50000
    assert stacked.discount_codes == ("volume", "random_allocation")


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"kind": "fixed", "unit_price": -1}, "unit_price"),
        ({"kind": "fixed", "unit_price": "abc"}, "not a number"),
        ({"kind": "fixed", "unit_price": 1.5}, "float"),
        ({"kind": "fixed", "unit_price": "1", "currency": "XXX"}, "currency"),
        ({"kind": "barter"}, "kind"),
        ({"kind": "fixed", "unit_price": "1", "discounts": [{"kind": "vip", "pct": "50"}]}, "vip"),
        ({"kind": "fixed", "unit_price": "1", "discounts": [{**NEW_CUSTOMER, "pct": 0.5}]}, "float"),
        (
            {
                "kind": "fixed",
                "unit_price": "1",
                "discounts": [{**NEW_CUSTOMER, "valid_to": "2027-01-01T00:00:01Z"}],
            },
            "365 days",
        ),
        (
            {"kind": "fixed", "unit_price": "1", "discounts": [{"kind": "random_allocation", "pct": "10"}]},
            "published fair rule",
        ),
        (
            {
                "kind": "fixed",
                "unit_price": "1",
                "discounts": [
                    {"kind": "volume", "min_quantity": 10, "pct": "5"},
                    {"kind": "volume", "min_quantity": 20, "pct": "9"},
                ],
            },
            "one discount of each kind",
        ),
        (
            {
                "kind": "tiered",
                "style": "graduated",
                "tiers": [
                    {"first_unit": 1, "last_unit": 10, "unit_price": "1"},
                    {"first_unit": 5, "unit_price": "1"},
                ],
            },
            "overlap",
        ),
        (
            {
                "kind": "tiered",
                "style": "graduated",
                "tiers": [{"first_unit": 1, "last_unit": 10, "unit_price": "1"}],
            },
            "open-ended",
        ),
    ],
)
def test_malformed_plans_are_refused_with_the_reason(bad: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        plan(**bad)


def test_json_float_amounts_are_refused_but_strings_pass() -> None:
    with pytest.raises(ValidationError, match="float"):
        parse_plan_json('{"kind": "fixed", "unit_price": 12.5}')
    assert parse_plan_json('{"kind": "fixed", "unit_price": "12.50"}').kind == "fixed"
