"""Each plan type, guided entries and the government fee schedule, by example."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from pricing import (
    Money,
    PricingError,
    allocate,
    entry_in_force,
    quote,
    validate_plan_against_entry,
)
from tests.unit.pricing.pricing_factories import AT, disclosure_fee_schedule, entry, facts, plan


def test_money_is_exact_and_refuses_floats() -> None:
    assert Money.of("0.10", "CNY") + Money.of("0.20", "CNY") == Money.of("0.30", "CNY")
    assert Money.of("1.005", "CNY").minor_units == 101  # half-up to the fen
    assert Money.from_minor(12345, "CNY").amount == Decimal("123.45")
    with pytest.raises(PricingError, match="float"):
        Money.of(0.1, "CNY")
    with pytest.raises(PricingError, match="currency"):
        Money.of("1", "XYZ")
    with pytest.raises(PricingError):
        Money.of("1", "CNY") + Money.of("1", "USD")
    assert [m.minor_units for m in allocate(Money.of("1.00", "CNY"), [1, 1, 1])] == [34, 33, 33]


def test_fixed_one_off_metered_subscription_and_tiered_plans() -> None:
    assert quote(plan(kind="fixed", unit_price="2.50"), None, facts(4)).total_minor == 1000
    assert quote(plan(kind="one_off", price="999"), None, facts(7)).total_minor == 99900
    metered = plan(kind="metered", base_fee="100", included_units=1000, overage_unit_price="0.05")
    assert quote(metered, None, facts(900)).total_minor == 10000
    assert quote(metered, None, facts(1200)).total_minor == 10000 + 1000
    sub = plan(kind="subscription", period="month", price_per_period="300")
    assert quote(sub, None, facts(3)).total_minor == 90000
    tiers = [
        {"first_unit": 1, "last_unit": 100, "unit_price": "1.00"},
        {"first_unit": 101, "unit_price": "0.50"},
    ]
    graduated = plan(kind="tiered", style="graduated", tiers=tiers)
    volume = plan(kind="tiered", style="volume", tiers=tiers)
    assert quote(graduated, None, facts(150)).total_minor == 100 * 100 + 50 * 50
    assert quote(volume, None, facts(150)).total_minor == 150 * 50
    lines = quote(graduated, None, facts(150)).lines
    assert [line.quantity for line in lines] == [100, 50]
    assert all(line.reason for line in lines)


def test_government_disclosure_fee_schedule() -> None:
    schedule = disclosure_fee_schedule()
    as_plan = plan(
        kind="tiered", style="graduated", tiers=[t.model_dump(mode="json") for t in schedule.tiers]
    )
    assert quote(as_plan, schedule, facts(10)).total_minor == 0
    # 35 requests: 10 free + 20 x 100 + 5 x 200 = 3000 yuan
    assert quote(as_plan, schedule, facts(35)).total_minor == 300000
    assert quote(as_plan, schedule, facts(45)).total_minor == (2000 + 2000 + 5 * 300) * 100


def test_guided_band_validation_names_the_entry_and_limit() -> None:
    guided = entry()  # base 2.00, band -20 %/+10 %: 1.60 .. 2.20 per call
    assert validate_plan_against_entry(plan(kind="fixed", unit_price="2.10"), guided) == []
    too_high = validate_plan_against_entry(plan(kind="fixed", unit_price="2.50"), guided)
    assert (
        too_high and too_high[0].entry_key == "JL-PUB-TRAFFIC" and too_high[0].limit == "2.20 CNY"
    )
    too_low = validate_plan_against_entry(plan(kind="fixed", unit_price="1.50"), guided)
    assert too_low and "floor" in too_low[0].reason
    discounted = plan(
        kind="fixed",
        unit_price="1.70",
        discounts=[{"kind": "volume", "min_quantity": 100, "pct": "10"}],
    )
    assert validate_plan_against_entry(discounted, guided)  # 1.53 after discount < 1.60


def test_exempt_purposes_pay_zero_and_reduced_pay_less() -> None:
    guided = entry(purpose_reductions={"public_welfare": "100", "academic_research": "50"})
    p = plan(kind="fixed", unit_price="2.00")
    assert quote(p, guided, facts(10, purpose="public_welfare")).total_minor == 0
    assert quote(p, guided, facts(10, purpose="academic_research")).total_minor == 1000
    exempt = quote(p, guided, facts(10, purpose="public_welfare"))
    assert "发改价格〔2025〕65号" in exempt.lines[-1].reason


def test_lawful_discounts_only_and_bounded_new_customer_offer() -> None:
    p = plan(
        kind="fixed",
        unit_price="10",
        discounts=[
            {
                "kind": "new_customer",
                "pct": "20",
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2026-12-31T00:00:00Z",
            },
            {
                "kind": "random_allocation",
                "pct": "50",
                "rule_url": "https://exchange.example/lottery",
            },
        ],
    )
    assert quote(p, None, facts(1, is_new_customer=True)).total_minor == 800
    assert quote(p, None, facts(1, is_new_customer=False)).total_minor == 1000
    assert quote(p, None, facts(1, lottery_won=True)).total_minor == 500
    assert "Art. 70" in quote(p, None, facts(1, lottery_won=True)).lines[-1].reason
    with pytest.raises(ValidationError):
        plan(kind="fixed", unit_price="10", discounts=[{"kind": "vip", "pct": "50"}])
    with pytest.raises(ValidationError, match="days"):
        plan(
            kind="fixed",
            unit_price="10",
            discounts=[
                {
                    "kind": "new_customer",
                    "pct": "20",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "valid_to": "2028-01-01T00:00:00Z",
                }
            ],
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "fixed", "unit_price": -1},
        {"kind": "fixed", "unit_price": "abc"},
        {"kind": "fixed", "unit_price": 1.5},
        {"kind": "fixed", "unit_price": "1", "currency": "XXX"},
        {
            "kind": "tiered",
            "style": "graduated",
            "tiers": [
                {"first_unit": 1, "last_unit": 10, "unit_price": "1"},
                {"first_unit": 5, "unit_price": "1"},
            ],
        },
        {
            "kind": "tiered",
            "style": "graduated",
            "tiers": [{"first_unit": 1, "last_unit": 10, "unit_price": "1"}],
        },
        {"kind": "barter"},
    ],
)
def test_malformed_plans_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        plan(**bad)


def test_malformed_entries_are_refused() -> None:
    with pytest.raises(ValidationError):
        entry(unit="per_parsec")
    with pytest.raises(ValidationError):
        entry(band_up_pct=None)
    with pytest.raises(ValidationError):
        entry(band_down_pct="-5")


def test_versioned_entries_quote_uses_the_one_in_force() -> None:
    v1 = entry(effective_to="2026-07-01T00:00:00Z")
    v2 = entry(
        version=2,
        effective_from="2026-07-01T00:00:00Z",
        tiers=[{"first_unit": 1, "unit_price": "3.00"}],
    )
    assert entry_in_force([v1, v2], "traffic", AT) == v1
    assert entry_in_force([v1, v2], "traffic", AT + timedelta(days=60)) == v2
    assert entry_in_force([v1, v2], "weather", AT) is None


def test_quotes_are_deterministic_with_digest() -> None:
    p = plan(kind="fixed", unit_price="2.00")
    a, b = quote(p, entry(), facts(3)), quote(p, entry(), facts(3))
    assert a == b and a.digest() == b.digest()
    assert a.entry_key == "JL-PUB-TRAFFIC" and a.expires_at > a.issued_at
