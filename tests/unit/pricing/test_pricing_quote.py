"""Quotes: the government fee schedule, guided bands and ceilings, purposes, the digest."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from pricing import Money, PricingError, quote, validate_plan_against_entry
from tests.unit.pricing.pricing_factories import (
    ceiling_entry,
    disclosure_fee_schedule,
    disclosure_tiers,
    entry,
    facts,
    plan,
)


def test_government_disclosure_fee_schedule_35_requests_cost_3000_yuan() -> None:
    schedule = disclosure_fee_schedule()
    as_plan = plan(kind="tiered", style="graduated", tiers=disclosure_tiers())
    assert validate_plan_against_entry(as_plan, schedule) == []
    assert quote(as_plan, schedule, facts(10)).total_minor == 0
    q35 = quote(as_plan, schedule, facts(35))
    assert q35.total == Money.of("3000.00", "CNY")  # 10 free + 20 x 100 + 5 x 200
    assert [line.reason for line in q35.lines] == [
        "tier 1–10 at 0.00",
        "tier 11–30 at 100.00",
        "tier 31–40 at 200.00",
    ]
    assert quote(as_plan, schedule, facts(45)).total_minor == (2000 + 2000 + 5 * 300) * 100
    assert q35.entry_id == "GOV-DISCLOSURE-FEE" and q35.entry_version == 1


def test_band_validation_names_the_entry_the_field_and_the_limit() -> None:
    guided = entry()  # 1.60 .. 2.20 per call
    assert validate_plan_against_entry(plan(kind="fixed", unit_price="2.10"), guided) == []
    too_high = validate_plan_against_entry(plan(kind="fixed", unit_price="2.50"), guided)
    assert too_high[0].entry_id == "JL-PUB-TRAFFIC" and too_high[0].entry_version == 1
    assert too_high[0].field == "price_plan" and too_high[0].limit == "2.20 CNY"
    assert "发改价格〔2025〕65号" in too_high[0].reason
    assert "floor" in validate_plan_against_entry(plan(kind="fixed", unit_price="1.50"), guided)[0].reason
    deep = plan(
        kind="fixed", unit_price="1.70", discounts=[{"kind": "volume", "min_quantity": 100, "pct": "10"}]
    )
    assert next(v.quantity for v in validate_plan_against_entry(deep, guided)) == 100


def test_ceiling_is_checked_at_every_tier_boundary_and_beyond() -> None:
    schedule = disclosure_fee_schedule()
    sneaky = disclosure_tiers()
    sneaky[1] = {**sneaky[1], "unit_price": "101"}  # 11–30 one yuan over
    found = validate_plan_against_entry(plan(kind="tiered", style="graduated", tiers=sneaky), schedule)
    assert found and found[0].quantity == 11
    open_end = plan(kind="fixed", unit_price="1.00")
    flat_ceiling = ceiling_entry(
        tiers=[{"first_unit": 1, "last_unit": 5, "unit_price": "2"}, {"first_unit": 6, "unit_price": "0.90"}]
    )
    found = validate_plan_against_entry(open_end, flat_ceiling)
    assert found[-1].field == "price_plan.unit_price" and found[-1].limit == "0.90"
    assert validate_plan_against_entry(plan(kind="fixed", unit_price="1", currency="USD"), schedule)


def test_a_plan_over_a_new_ceiling_is_capped_and_says_why() -> None:
    q = quote(plan(kind="fixed", unit_price="3.00"), ceiling_entry(), facts(10))
    assert q.total_minor == 2000 and q.subtotal_minor == 3000
    assert q.lines[-1].code == "guided_cap" and "Art. 65" in q.lines[-1].reason


def test_discounts_never_take_a_guided_price_below_the_band_floor() -> None:
    p = plan(kind="fixed", unit_price="2.00", discounts=[{"kind": "volume", "min_quantity": 2, "pct": "50"}])
    q = quote(p, entry(), facts(10))
    assert q.total_minor == 1600 and "floor" in q.lines[-1].reason


def test_exempt_purposes_pay_zero_and_reduced_pay_less() -> None:
    guided = entry(
        purpose_rules=[
            {"purpose": "public_welfare", "treatment": "free"},
            {"purpose": "academic_research", "treatment": "reduced", "reduction_pct": "50"},
        ]
    )
    p = plan(kind="fixed", unit_price="2.00")
    exempt = quote(p, guided, facts(10, purpose="public_welfare"))
    assert exempt.total_minor == 0
    assert exempt.lines[-1].reason == "exempt purpose public_welfare (发改价格〔2025〕65号; Art. 65)"
    assert quote(p, guided, facts(10, purpose="academic_research")).total_minor == 1000
    # Autonomously priced data has no purpose rules: the buyer pays the plan.
    assert quote(p, None, facts(10, purpose="public_welfare")).total_minor == 2000


def test_quotes_are_deterministic_and_canonically_serialised() -> None:
    p = plan(kind="fixed", unit_price="2.00")
    a, b = quote(p, entry(), facts(3)), quote(p, entry(), facts(3))
    assert a == b and a.digest() == b.digest() and len(a.digest()) == 64
    text = a.canonical_json()
    canonical = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == canonical and json.loads(text)["total_minor"] == 600
    assert json.loads(text)["lines"][0]["unit_price"] == "2.00"  # Decimals as strings
    assert a.expires_at - a.issued_at == timedelta(minutes=30)
    assert a.total == sum((line.amount for line in a.lines), Money.zero("CNY"))
    changed = quote(p, entry(), facts(4))
    assert changed.digest() != a.digest()


def test_the_same_instant_in_another_zone_gives_the_same_digest() -> None:
    p = plan(kind="fixed", unit_price="2.00")
    in_utc = quote(p, entry(), facts(3))
    in_beijing = quote(p, entry(), facts(3, at=in_utc.issued_at.astimezone(timezone(timedelta(hours=8)))))
    assert in_beijing == in_utc and in_beijing.digest() == in_utc.digest()
    assert in_beijing.issued_at.utcoffset() == timedelta(0)


def test_currency_mismatch_and_bad_validity_are_refused() -> None:
    with pytest.raises(PricingError, match="currency"):
        quote(plan(kind="fixed", unit_price="1", currency="USD"), entry(), facts())
    with pytest.raises(PricingError, match="validity"):
        quote(plan(kind="fixed", unit_price="1"), None, facts(), validity=timedelta(0))


def test_sub_fen_unit_prices_round_once_per_line() -> None:
    q = quote(plan(kind="fixed", unit_price="0.005"), None, facts(1))
    assert q.total_minor == 1 and q.lines[0].unit_price == Decimal("0.005")
