"""Invariants of the pricing engine, over random plans and volumes (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import Money, allocate, quote, validate_plan_against_entry
from tests.unit.pricing.pricing_factories import entry, facts, plan

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=2)
quantities = st.integers(min_value=1, max_value=5000)


@st.composite
def graduated_tiers(draw: st.DrawFn) -> list[dict[str, str | int | None]]:
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=2000), max_size=4)))
    tiers: list[dict[str, str | int | None]] = []
    start = 1
    for b in bounds:
        if b >= start:
            tiers.append({"first_unit": start, "last_unit": b, "unit_price": str(draw(prices))})
            start = b + 1
    tiers.append({"first_unit": start, "last_unit": None, "unit_price": str(draw(prices))})
    return tiers


@settings(max_examples=150, deadline=None)
@given(graduated_tiers(), quantities)
def test_totals_equal_sum_of_lines_to_the_fen(
    tiers: list[dict[str, str | int | None]], q: int
) -> None:
    result = quote(plan(kind="tiered", style="graduated", tiers=tiers), None, facts(q))
    assert result.total_minor == sum(line.amount_minor for line in result.lines)


@settings(max_examples=150, deadline=None)
@given(graduated_tiers(), quantities, quantities)
def test_more_volume_never_lowers_a_graduated_total(
    tiers: list[dict[str, str | int | None]], a: int, b: int
) -> None:
    p = plan(kind="tiered", style="graduated", tiers=tiers)
    low, high = sorted((a, b))
    assert quote(p, None, facts(low)).total_minor <= quote(p, None, facts(high)).total_minor


@settings(max_examples=150, deadline=None)
@given(prices, quantities, st.sampled_from(["band", "ceiling"]))
def test_a_validated_guided_quote_never_leaves_its_band_or_ceiling(
    unit: Decimal, q: int, mode: str
) -> None:
    guided = (
        entry() if mode == "band" else entry(mode="ceiling", band_up_pct=None, band_down_pct=None)
    )
    p = plan(kind="fixed", unit_price=str(unit))
    if validate_plan_against_entry(p, guided):
        return  # refused at save time: never quoted
    result = quote(p, guided, facts(q))
    low, high = guided.bounds(q)
    assert Money(low, "CNY").minor_units <= result.total_minor <= Money(high, "CNY").minor_units


@settings(max_examples=100, deadline=None)
@given(prices, quantities, st.sampled_from(["public_governance", "public_welfare"]))
def test_exempt_purposes_pay_zero(unit: Decimal, q: int, purpose: str) -> None:
    assert (
        quote(
            plan(kind="fixed", unit_price=str(unit)), entry(), facts(q, purpose=purpose)
        ).total_minor
        == 0
    )


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12),
)
def test_allocation_never_loses_or_invents_a_fen(minor: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        return
    parts = allocate(Money.from_minor(minor, "CNY"), weights)
    assert sum(p.minor_units for p in parts) == minor
