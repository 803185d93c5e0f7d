"""Invariants of windows and open-ended bands (hypothesis): splitting an order never changes
what the units cost, the ceiling holds for every slice of a window, free purposes pay 0,
band-by-band prices only ever rise, and the unit-by-unit comparison matches brute force."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import (
    Money,
    Tier,
    cumulative_total,
    graduated_total,
    price_at,
    quote,
    validate_plan_against_entry,
)
from pricing.schedules import first_unit_above
from tests.unit.pricing.pricing_factories import ceiling_entry, entry, facts, plan

MONTH = "counterparty_month"
fen_prices = st.integers(min_value=0, max_value=50_000).map(lambda f: Decimal(f) / 100)
any_prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=3)
pcts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=1)


@st.composite
def schedules(draw: st.DrawFn, prices: st.SearchStrategy[Decimal] = any_prices) -> list[dict[str, Any]]:
    """Graduated tiers whose open tail may rise band by band."""
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=300), max_size=3)))
    out: list[dict[str, Any]] = []
    start = 1
    for b in bounds:
        out.append({"first_unit": start, "last_unit": b, "unit_price": str(draw(prices))})
        start = b + 1
    tail: dict[str, Any] = {"first_unit": start, "unit_price": str(draw(prices))}
    if draw(st.booleans()):
        step = draw(prices.filter(lambda p: p > 0))
        tail |= {"band_size": draw(st.integers(1, 40)), "band_step": str(step)}
    return [*out, tail]


def split(data: st.DataObject, total: int) -> list[int]:
    cuts = sorted(data.draw(st.sets(st.integers(1, total - 1), max_size=5)) if total > 1 else set())
    points = [0, *cuts, total]
    return [b - a for a, b in pairwise(points)]


def in_orders(p: Any, guided: Any, parts: list[int], purpose: str = "commercial_analytics") -> list[int]:
    prior, totals = 0, []
    for n in parts:
        priced = quote(p, guided, facts(n, purpose=purpose, prior_units=prior))
        assert priced.total_minor == sum(line.amount_minor for line in priced.lines)
        prior += n
        totals.append(priced.total_minor)
    return totals


@settings(max_examples=200, deadline=None)
@given(schedules(), st.integers(1, 600), st.data())
def test_a_windowed_plan_costs_the_same_bought_at_once_or_in_any_split(
    tiers: list[dict[str, Any]], n: int, data: st.DataObject
) -> None:
    p = plan(kind="tiered", style="graduated", tiers=tiers, accumulation=MONTH)
    at_once = quote(p, None, facts(n)).total_minor
    assert sum(in_orders(p, None, split(data, n))) == at_once


@settings(max_examples=200, deadline=None)
@given(schedules(fen_prices), fen_prices, st.booleans(), st.integers(1, 600), st.data())
def test_a_plan_inside_its_windowed_entry_splits_exactly_and_stays_under_the_ceiling(
    tiers: list[dict[str, Any]], markup: Decimal, as_band: bool, n: int, data: st.DataObject
) -> None:
    # The entry is the plan marked up tier by tier (the same bands, a steeper step): every unit
    # of the plan costs at most the ceiling, so no order of any split is ever clamped.
    dearer = [
        {**t, "unit_price": str(Decimal(t["unit_price"]) + markup)}
        | ({"band_step": str(Decimal(t["band_step"]) + markup)} if "band_step" in t else {})
        for t in tiers
    ]
    if as_band:
        guided = entry(tiers=tiers, accumulation=MONTH, band_up_pct="10", band_down_pct="10")
    else:
        guided = ceiling_entry(tiers=dearer, accumulation=MONTH)
    p = plan(kind="tiered", style="graduated", tiers=tiers, accumulation=MONTH)
    assert validate_plan_against_entry(p, guided) == []
    parts = split(data, n)
    totals = in_orders(p, guided, parts)
    at_once = quote(p, guided, facts(n)).total_minor
    assert sum(totals) == at_once == Money(cumulative_total(p, n), "CNY").minor_units  # never clamped
    prior = 0
    for part, total in zip(parts, totals, strict=True):
        low, high = guided.slice_bounds_minor(prior, part)
        assert low <= total <= high
        prior += part


@settings(max_examples=200, deadline=None)
@given(schedules(), schedules(), st.booleans(), st.integers(0, 2000), st.integers(1, 500))
def test_any_plan_is_held_inside_its_entry_for_every_slice_of_a_window(
    plan_tiers: list[dict[str, Any]], entry_tiers: list[dict[str, Any]], as_band: bool, prior: int, n: int
) -> None:
    if as_band:
        guided = entry(tiers=entry_tiers, accumulation=MONTH, band_up_pct="15", band_down_pct="25")
    else:
        guided = ceiling_entry(tiers=entry_tiers, accumulation=MONTH)
    p = plan(kind="tiered", style="graduated", tiers=plan_tiers)
    low, high = guided.slice_bounds_minor(prior, n)
    assert low <= quote(p, guided, facts(n, prior_units=prior)).total_minor <= high
    for purpose in ("public_governance", "public_welfare"):
        free = quote(p, guided, facts(n, purpose=purpose, prior_units=prior))
        assert free.total_minor == 0 and free.window is not None and free.window.units == 0


@settings(max_examples=300, deadline=None)
@given(schedules(), st.integers(0, 3000), st.integers(0, 3000))
def test_open_ended_band_pricing_never_falls_with_more_volume(
    tiers: list[dict[str, Any]], a: int, b: int
) -> None:
    schedule = [Tier.model_validate(t) for t in tiers]
    low, high = sorted((a, b))
    assert graduated_total(schedule, low) <= graduated_total(schedule, high)
    tail = schedule[-1]
    if tail.progressive:
        first = tail.first_unit
        assert price_at(schedule, first + low) <= price_at(schedule, first + high)


@settings(max_examples=300, deadline=None)
@given(schedules(), schedules(), pcts, pcts)
def test_the_unit_by_unit_comparison_agrees_with_brute_force(
    upper: list[dict[str, Any]], lower: list[dict[str, Any]], up_pct: Decimal, low_pct: Decimal
) -> None:
    a = [Tier.model_validate(t) for t in upper]
    b = [Tier.model_validate(t) for t in lower]
    fa, fb = up_pct / 100, low_pct / 100
    found = first_unit_above(a, fa, b, fb)
    horizon = 3000 if found is None else min(found, 3000)
    first = next((u for u in range(1, horizon + 1) if price_at(a, u) * fa > price_at(b, u) * fb), None)
    if found is not None and found > 3000:
        assert first is None and price_at(a, found) * fa > price_at(b, found) * fb
    else:
        assert first == found
