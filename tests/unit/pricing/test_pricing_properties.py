"""Invariants of the pricing engine over random plans, entries and volumes (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import Money, PricingError, allocate, quote, validate_plan_against_entry
from tests.unit.pricing.pricing_factories import allocation_win, ceiling_entry, entry, facts, plan

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=3)
pcts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)
quantities = st.integers(min_value=1, max_value=5000)
purposes = st.sampled_from(
    ["commercial_analytics", "public_welfare", "public_governance", "academic_research"]
)


@st.composite
def tiers(draw: st.DrawFn) -> list[dict[str, Any]]:
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=2000), max_size=4)))
    out: list[dict[str, Any]] = []
    start = 1
    for b in bounds:
        if b >= start:
            out.append({"first_unit": start, "last_unit": b, "unit_price": str(draw(prices))})
            start = b + 1
    out.append({"first_unit": start, "unit_price": str(draw(prices))})
    return out


@st.composite
def discounts(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if draw(st.booleans()):
        out.append({"kind": "volume", "min_quantity": draw(st.integers(2, 3000)), "pct": str(draw(pcts))})
    if draw(st.booleans()):
        out.append({"kind": "random_allocation", "rule_id": "R-1", "pct": str(draw(pcts))})
    if draw(st.booleans()):
        out.append(
            {
                "kind": "new_customer",
                "pct": str(draw(pcts)),
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2026-12-01T00:00:00Z",
            }
        )
    return out


@st.composite
def plans(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["fixed", "one_off", "tiered", "metered", "subscription"]))
    body: dict[str, Any] = {"kind": kind, "discounts": draw(discounts())}
    if kind == "fixed":
        body["unit_price"] = str(draw(prices))
    elif kind == "one_off":
        body["price"] = str(draw(prices))
    elif kind == "tiered":
        body |= {"style": draw(st.sampled_from(["graduated", "volume"])), "tiers": draw(tiers())}
    elif kind == "metered":
        body |= {
            "base_fee": str(draw(prices)),
            "included_units": draw(st.integers(0, 2000)),
            "unit_price": str(draw(prices)),
            "overage_unit_price": str(draw(prices)),
        }
    else:
        body |= {"period": "month", "price_per_period": str(draw(prices))}
    return plan(**body)


@st.composite
def entries(draw: st.DrawFn) -> Any:
    schedule = draw(tiers())
    if draw(st.booleans()):
        return ceiling_entry(tiers=schedule)
    return entry(tiers=schedule, band_up_pct=str(draw(pcts)), band_down_pct=str(draw(pcts)))


def buyer(data: st.DataObject, purpose: str = "commercial_analytics") -> Any:
    return facts(
        data.draw(quantities),
        purpose=purpose,
        is_new_customer=data.draw(st.booleans()),
        allocation_win=allocation_win(rule="R-1") if data.draw(st.booleans()) else None,
    )


@settings(max_examples=300, deadline=None)
@given(plans(), st.data())
def test_totals_equal_the_sum_of_lines_to_the_fen(p: Any, data: st.DataObject) -> None:
    result = quote(p, None, buyer(data))
    assert result.total_minor == sum(line.amount_minor for line in result.lines)
    assert result.total_minor >= 0


@settings(max_examples=300, deadline=None)
@given(plans(), entries(), st.data())
def test_a_guided_quote_never_leaves_its_band_nor_exceeds_its_ceiling(
    p: Any, guided: Any, data: st.DataObject
) -> None:
    facts_ = buyer(data)
    result = quote(p, guided, facts_)
    low, high = guided.bounds(facts_.quantity)
    assert Money(low, "CNY").minor_units <= result.total_minor <= Money(high, "CNY").minor_units
    assert result.total_minor == sum(line.amount_minor for line in result.lines)


@settings(max_examples=200, deadline=None)
@given(entries(), st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=1), quantities)
def test_a_plan_inside_the_entry_validates_and_is_quoted_unclamped(
    guided: Any, share: Decimal, q: int
) -> None:
    # Scale the entry's own tiers to a point inside its band (or under its ceiling).
    if guided.mode == "ceiling":
        factor = share
    else:
        factor = 1 - guided.band_down_pct / 100 + share * (guided.band_up_pct + guided.band_down_pct) / 100
    inside = [{**t.model_dump(mode="json"), "unit_price": str(t.unit_price * factor)} for t in guided.tiers]
    p = plan(kind="tiered", style="graduated", tiers=inside)
    assert validate_plan_against_entry(p, guided) == []
    codes = {line.code for line in quote(p, guided, facts(q)).lines}
    assert not codes & {"guided_cap", "guided_floor"}


@settings(max_examples=200, deadline=None)
@given(tiers(), quantities, quantities)
def test_more_volume_never_lowers_a_graduated_total(t: list[dict[str, Any]], a: int, b: int) -> None:
    p = plan(kind="tiered", style="graduated", tiers=t)
    low, high = sorted((a, b))
    assert quote(p, None, facts(low)).total_minor <= quote(p, None, facts(high)).total_minor


@settings(max_examples=200, deadline=None)
@given(plans(), entries(), st.sampled_from(["public_governance", "public_welfare"]), st.data())
def test_exempt_purposes_pay_zero(p: Any, guided: Any, purpose: str, data: st.DataObject) -> None:
    assert quote(p, guided, buyer(data, purpose)).total_minor == 0


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
)
def test_allocation_never_loses_or_invents_a_fen(minor: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        return
    parts = allocate(Money.from_minor(minor, "CNY"), weights)
    assert sum(p.minor_units for p in parts) == minor
    assert all(abs(p.minor_units) <= abs(minor) for p in parts)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_money_is_always_refused(value: float) -> None:
    with pytest.raises(PricingError, match="float"):
        Money.of(value, "CNY")
    with pytest.raises(Exception, match="float"):
        plan(kind="fixed", unit_price=value)
